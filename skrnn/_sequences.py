"""Input layer: every accepted X becomes one canonical ragged form, ``Sequences``.

Accepted X (API.md): a ragged container (list, tuple, pandas Series or 1-D
object array) of sequences, each ``(T_i,)`` or ``(T_i, F)``; a 2-D table
``(n, T)`` (ndarray or DataFrame) of fixed-width univariate sequences whose
width belongs to the fit like any tabular estimator's; a 3-D array
``(n, T, F)``; or the ``TokenSequences`` made by ``TextOneHotEncoder``.

Nothing below this layer sees pandas, lists or token containers.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import _check_feature_names, check_array

from ._tokens import TokenSequences

__all__ = ["Sequences", "validate_sequences", "validate_step_targets", "split_steps"]


class Sequences:
    """Ragged sequences as flat arrays (see docs/internals.md).

    Attributes
    ----------
    values : ndarray
        ``(N, F)`` C-contiguous float32/float64 owned by this object, or
        ``(N,)`` int64 token ids.
    offsets : ndarray of shape (n_samples + 1,), int64
        Sequence ``i`` is ``values[offsets[i]:offsets[i + 1]]``.
    n_features : int
        Features per step; the vocabulary size for tokens.
    is_tokens : bool
        Token input.
    dtype : numpy dtype
        Float dtype the model computes in.
    """

    def __init__(self, values, offsets, n_features, is_tokens, dtype):
        self.values = values
        self.offsets = offsets
        self.n_features = int(n_features)
        self.is_tokens = bool(is_tokens)
        self.dtype = np.dtype(dtype)

    @property
    def n_samples(self):
        return self.offsets.shape[0] - 1

    @property
    def lengths(self):
        return np.diff(self.offsets)


def _float_dtype(dtype):
    return np.float32 if dtype == np.float32 else np.float64


def _estimator_name(estimator):
    return type(estimator).__name__


def _check_finite(values, offsets, what="X"):
    finite = np.isfinite(values)
    if not finite.all():
        row = int(np.flatnonzero(~finite.reshape(finite.shape[0], -1).all(axis=1))[0])
        seq = int(np.searchsorted(offsets, row, side="right") - 1)
        kind = "NaN" if np.isnan(values[row]).any() else "infinity"
        raise ValueError(
            f"Input {what} contains {kind} (sequence {seq}, step {row - offsets[seq]}). "
            "Recurrent networks cannot consume missing values: impute or drop them first."
        )


def _from_array(estimator, X, reset):
    """2-D tables and 3-D arrays (ndarray or DataFrame)."""
    _check_feature_names(estimator, X, reset=reset)
    if not isinstance(X, (np.ndarray, pd.DataFrame)):
        X = np.asarray(X)
    ndim = X.ndim
    if ndim == 1:
        raise ValueError(
            "X is a 1-D array, which is ambiguous. Reshape your data: pass one "
            "univariate sequence as "
            "[x] (a list of one sequence), several as a list of 1-D arrays, or a 2-D "
            "(n_samples, n_steps) table."
        )
    if ndim not in (2, 3):
        raise ValueError(
            f"X has {ndim} dimensions; expected a 2-D (n_samples, n_steps) table, a "
            "3-D (n_samples, n_steps, n_features) array or a list of sequences."
        )
    arr = check_array(
        X,
        dtype=(np.float64, np.float32),
        allow_nd=True,
        copy=True,
        order="C",
        estimator=estimator,
        input_name="X",
    )
    n = arr.shape[0]
    if ndim == 2:
        steps, n_features = arr.shape[1], 1
    else:
        steps, n_features = arr.shape[1], arr.shape[2]
        if n_features == 0:
            raise ValueError(
                f"0 feature(s) (shape={arr.shape}) while a minimum of 1 is required "
                f"by {_estimator_name(estimator)}."
            )
    values = np.ascontiguousarray(arr.reshape(n * steps, n_features))
    offsets = np.arange(n + 1, dtype=np.int64) * steps
    kind = "table" if ndim == 2 else "sequences"
    return values, offsets, n_features, kind, arr.shape[1] if ndim == 2 else n_features


def _sequence_array(seq, i):
    """One sequence as a float ndarray (copy only if needed) and its feature names."""
    names = None
    if isinstance(seq, (str, bytes)):
        raise TypeError(
            f"Sequence {i} of X is a string; skrnn's estimators take numeric sequences. "
            "Turn text into token sequences with skrnn.TextOneHotEncoder first."
        )
    if isinstance(seq, pd.DataFrame):
        names = [str(c) for c in seq.columns] if all(
            isinstance(c, str) for c in seq.columns
        ) else None
        seq = seq.to_numpy()
    elif isinstance(seq, pd.Series):
        seq = seq.to_numpy()
    a = np.asarray(seq)
    if a.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    if a.dtype.kind == "O":
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Sequence {i} of X holds non-numeric values ({exc}); each step must "
                "be numbers."
            ) from None
    if a.dtype.kind not in "biuf":
        raise TypeError(
            f"Sequence {i} of X has dtype {a.dtype}; expected numbers (use "
            "skrnn.TextOneHotEncoder for text)."
        )
    if a.ndim == 0:
        raise ValueError(
            f"Sequence {i} of X is a scalar, not a sequence. If X is one univariate "
            "sequence, pass [X]; several sequences go in a list of 1-D or 2-D arrays."
        )
    if a.ndim > 2:
        raise ValueError(
            f"Sequence {i} of X has {a.ndim} dimensions; each sequence must be 1-D "
            "(n_steps,) or 2-D (n_steps, n_features)."
        )
    return a, names


def _from_ragged(estimator, X):
    """Lists, tuples, Series and 1-D object arrays of sequences."""
    if isinstance(X, pd.Series):
        items = X.tolist()
    else:
        items = list(X)
    n = len(items)
    if n == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (X is empty) while a minimum of 1 is "
            f"required by {_estimator_name(estimator)}."
        )
    arrays = []
    n_features = None
    names = []
    all_float32 = True
    for i, seq in enumerate(items):
        a, seq_names = _sequence_array(seq, i)
        names.append(seq_names)
        if a.dtype != np.float32:
            all_float32 = False
        if a.ndim == 1:
            a = a.reshape(-1, 1) if a.shape[0] or n_features is None else a.reshape(0, n_features)
        if n_features is None:
            n_features = a.shape[1]
        elif a.shape[1] != n_features:
            if a.shape[0] == 0 and np.ndim(seq) == 1:
                a = a.reshape(0, n_features)
            else:
                raise ValueError(
                    f"Sequence {i} of X has {a.shape[1]} features per step, but the "
                    f"sequences before it have {n_features}; all sequences must have "
                    "the same number of features."
                )
        arrays.append(a)
    if n_features == 0:
        raise ValueError(
            f"0 feature(s) (shape=({n}, 0)) while a minimum of 1 is required by "
            f"{_estimator_name(estimator)}."
        )
    dtype = np.float32 if all_float32 else np.float64
    lengths = np.fromiter((a.shape[0] for a in arrays), dtype=np.int64, count=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    values = np.empty((int(offsets[-1]), n_features), dtype=dtype)
    for a, start, stop in zip(arrays, offsets[:-1], offsets[1:]):
        # Zero-length sequences may carry a stale feature count; nothing to copy.
        if stop > start:
            values[start:stop] = a
    feature_names = None
    if names and all(nm is not None for nm in names):
        if any(nm != names[0] for nm in names):
            raise ValueError(
                "The DataFrames in X have different column names; every sequence "
                "must have the same columns in the same order."
            )
        feature_names = np.asarray(names[0], dtype=object)
    return values, offsets, n_features, feature_names


def _is_table_like(X):
    """Whether X is read as one array (table or 3-D) rather than as a ragged container.

    Arrays, DataFrames and array-likes that are not containers are; so are
    plain nested Python lists/tuples of numbers that form a rectangle, read
    as a table exactly as ``np.asarray`` would (as for any sklearn
    estimator).  Containers of numpy arrays, Series or DataFrames are ragged
    sequences whatever their lengths.
    """
    if isinstance(X, pd.DataFrame):
        return True
    if isinstance(X, np.ndarray):
        return X.dtype != object or X.ndim != 1
    if isinstance(X, pd.Series):
        return False
    if isinstance(X, (list, tuple)):
        if not X or not all(isinstance(row, (list, tuple)) for row in X):
            return False
        widths = {len(row) for row in X}
        return len(widths) == 1 and next(iter(widths)) > 0 and all(
            not isinstance(v, (list, tuple, np.ndarray)) for row in X for v in row
        )
    return hasattr(X, "__array__")


def validate_sequences(estimator, X, *, reset):
    """Validate any accepted X and return it as ``Sequences``.

    Parameters
    ----------
    estimator : estimator instance
        Receives ``n_features_in_``, ``feature_names_in_``, and the private
        ``_n_step_features`` and ``_input_kind`` when ``reset`` is True; is
        checked against them otherwise.
    X : sequences
        Any X format of API.md.
    reset : bool
        True in a first fit, False in predict, warm fit and partial_fit.

    Returns
    -------
    seqs : Sequences
        Owned, C-contiguous, finite data; zero-length sequences are kept.
    """
    name = _estimator_name(estimator)
    if isinstance(X, TokenSequences):
        if len(X) == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (X is empty) while a minimum of 1 is "
                f"required by {name}."
            )
        kind = "tokens"
        seqs = Sequences(X.token_ids, X.offsets, X.n_vocabulary, True, X.dtype)
        width = n_step = X.n_vocabulary
        feature_names = None
    elif sp.issparse(X):
        raise TypeError(
            "Sparse data was passed for X, but dense data is required. skrnn reads "
            "text as token sequences from skrnn.TextOneHotEncoder; use .toarray() "
            "for other sparse matrices."
        )
    elif isinstance(X, (str, bytes)):
        raise TypeError(
            f"X is a single string; {name} takes sequences of numbers. Turn text into "
            "token sequences with skrnn.TextOneHotEncoder first."
        )
    elif _is_table_like(X):
        values, offsets, n_step, kind, width = _from_array(estimator, X, reset)
        seqs = Sequences(values, offsets, n_step, False, values.dtype)
        feature_names = getattr(estimator, "feature_names_in_", None) if reset else None
    elif hasattr(X, "__len__") and hasattr(X, "__iter__"):
        values, offsets, n_step, feature_names = _from_ragged(estimator, X)
        _check_finite(values, offsets)
        kind = "sequences"
        width = n_step
        seqs = Sequences(values, offsets, n_step, False, values.dtype)
    else:
        raise TypeError(
            f"{name} expects a list of sequences, a 2-D table, a 3-D array or the "
            f"output of TextOneHotEncoder; got {type(X).__name__}."
        )

    if reset:
        estimator.n_features_in_ = int(width)
        estimator._n_step_features = int(n_step)
        estimator._input_kind = kind
        if kind in ("sequences", "tokens"):
            if feature_names is not None:
                estimator.feature_names_in_ = feature_names
            elif hasattr(estimator, "feature_names_in_"):
                del estimator.feature_names_in_
        return seqs

    _check_compatible(estimator, kind, width, n_step, feature_names)
    return seqs


def _check_compatible(estimator, kind, width, n_step, feature_names):
    name = _estimator_name(estimator)
    fitted_kind = estimator._input_kind
    if (kind == "tokens") != (fitted_kind == "tokens"):
        if fitted_kind == "tokens":
            raise ValueError(
                f"{name} was fitted on token sequences (TextOneHotEncoder output) "
                "and cannot predict on dense numeric sequences."
            )
        raise ValueError(
            f"{name} was fitted on dense numeric sequences and cannot predict on "
            "token sequences (TextOneHotEncoder output)."
        )
    if kind == "tokens":
        if n_step != estimator._n_step_features:
            raise ValueError(
                f"X has a vocabulary of {n_step} tokens, but {name} was fitted on "
                f"{estimator._n_step_features}; use the same fitted TextOneHotEncoder."
            )
        return
    if kind == "table" and fitted_kind == "table":
        if width != estimator.n_features_in_:
            raise ValueError(
                f"X has {width} features, but {name} is expecting "
                f"{estimator.n_features_in_} features as input."
            )
        return
    if n_step != estimator._n_step_features:
        what = "a 2-D table of univariate sequences" if kind == "table" else (
            f"sequences with {n_step} features per step"
        )
        raise ValueError(
            f"X is {what}, but {name} was fitted on sequences with "
            f"{estimator._n_step_features} features per step."
        )
    fitted_names = getattr(estimator, "feature_names_in_", None)
    if kind == "sequences" and fitted_names is not None and feature_names is not None:
        if list(feature_names) != list(fitted_names):
            raise ValueError(
                "The sequences' column names differ from those seen at fit: "
                f"{list(feature_names)} vs {list(fitted_names)}."
            )


def validate_step_targets(y, seqs):
    """Per-step labels of the tagger, flattened to align with ``seqs.values`` rows.

    Parameters
    ----------
    y : list of array-like of shape (n_steps_i,), or ndarray of shape (n_samples, n_steps)
        One label sequence per X sequence, each as long as it.
    seqs : Sequences
        The validated X.

    Returns
    -------
    labels : ndarray of shape (total_steps,)
    """
    lengths = seqs.lengths
    n = seqs.n_samples
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        raise TypeError(
            "y must be a list of label sequences (one per X sequence), got "
            f"{type(y).__name__}."
        )
    if isinstance(y, np.ndarray) and y.dtype != object and y.ndim == 1:
        raise ValueError(
            "y is a 1-D array of labels, but a sequence tagger needs one label per "
            "step: pass a list of label sequences, each as long as its X sequence."
        )
    items = y.tolist() if isinstance(y, pd.Series) else list(y)
    if len(items) != n:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{n}, {len(items)}] (X sequences vs label sequences in y)."
        )
    arrays = []
    for i, (labels, length) in enumerate(zip(items, lengths)):
        a = np.asarray(labels.to_numpy() if isinstance(labels, pd.Series) else labels)
        if a.ndim != 1:
            raise ValueError(
                f"y[{i}] must be a 1-D sequence of labels, got shape {a.shape}."
            )
        if a.shape[0] != length:
            raise ValueError(
                f"y[{i}] has {a.shape[0]} labels but X sequence {i} has {length} "
                "steps; the tagger needs exactly one label per step."
            )
        arrays.append(a)
    nonempty = [a for a in arrays if a.shape[0]]
    flat = np.concatenate(nonempty) if nonempty else np.empty(0)
    if flat.dtype.kind == "f" and not np.all(np.isfinite(flat)):
        raise ValueError("y contains NaN or infinite labels.")
    return flat


def split_steps(flat, offsets):
    """Per-sequence views of an array aligned with the rows of ``values``."""
    return [flat[offsets[i] : offsets[i + 1]] for i in range(offsets.shape[0] - 1)]
