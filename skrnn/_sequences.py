"""Input layer: every accepted X becomes one canonical ragged form, ``Sequences``.

Accepted X (``API.md``):

* a ragged container -- list, tuple, object-dtype pandas Series or 1-D object
  ndarray -- of sequences, each ``(T_i,)`` (univariate) or ``(T_i, F)``, given
  as ndarrays, lists, pandas Series or DataFrames; lengths differ freely;
* a 2-D table ``(n_samples, T)`` (ndarray, DataFrame or any array-like) of
  fixed-length univariate sequences, whose width belongs to the fit like any
  tabular estimator's (``n_features_in_ == T``);
* a 3-D array ``(n_samples, T, F)`` of equal-length sequences;
* the ``TokenSequences`` made by ``TextOneHotEncoder``.

A plain list (or tuple) of equal-length lists of numbers is read as a 2-D
table, exactly as ``np.asarray`` and every scikit-learn estimator read it
(scikit-learn's common checks fit on ``X.tolist()`` and expect the table's
width to be checked afterwards).  The values and offsets are the same either
way; only ``n_features_in_`` and the width check at predict differ.  A
container of ndarrays, Series or DataFrames, or of lists of unequal lengths,
is always ragged.

Nothing below this layer sees pandas, lists or token containers: they see a
``Sequences`` holding flat arrays.
"""

import functools
import numbers
from collections.abc import Sequence as _AbcSequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import _check_feature_names, check_array

from ._tokens import TokenSequences

__all__ = [
    "Sequences",
    "validate_sequences",
    "validate_step_targets",
    "split_steps",
    "check_n_samples",
]

# Items of a row that make a nested list a ragged container rather than a table.
_NESTED = (list, tuple, np.ndarray, pd.Series, pd.DataFrame)


class Sequences:
    """Ragged sequences packed into flat arrays (see ``docs/internals.md``).

    Holds plain ndarrays and scalars only, so it pickles and can be handed to
    Numba kernels field by field.

    Parameters
    ----------
    values : ndarray of shape (n_steps_total, n_features) or (n_steps_total,)
        Dense input: C-contiguous float32/float64 rows, one per step, not
        sharing memory with the user's data.  Token input: int64 token ids.
    offsets : ndarray of shape (n_samples + 1,), dtype int64
        ``offsets[0] == 0``, ``offsets[-1] == len(values)``, non-decreasing;
        sequence ``i`` is ``values[offsets[i]:offsets[i + 1]]``.  Repeated
        offsets are zero-length sequences, which are legal here.
    n_features : int
        Features per step ``F``; for tokens the vocabulary size (the width of
        the one-hot vectors the ids stand for).
    is_tokens : bool, default=False
        Whether ``values`` holds token ids.
    dtype : numpy dtype, default=None
        Float dtype the model computes in; ``values.dtype`` when None (dense
        input only).
    uniform_length : int, default=None
        The length of every sequence, when the caller knows they are all
        equal (a 2-D table or 3-D array); None finds out from ``offsets``
        when first asked.

    Attributes
    ----------
    n_samples : int
        Number of sequences.
    lengths : ndarray of shape (n_samples,), dtype int64
        Number of steps of each sequence.
    uniform_length : int or None
        The common length of the sequences, None if they differ (or there
        are none).
    """

    def __init__(self, values, offsets, n_features, is_tokens=False, dtype=None,
                 uniform_length=None):
        self.values = values
        self.offsets = offsets
        self.n_features = int(n_features)
        self.is_tokens = bool(is_tokens)
        if dtype is None:
            if self.is_tokens:
                raise ValueError("Token sequences need an explicit float dtype.")
            dtype = values.dtype
        self.dtype = np.dtype(dtype)
        if uniform_length is not None:  # known from the input's shape: no scan
            self.uniform_length = int(uniform_length)

    @property
    def n_samples(self):
        """int: number of sequences."""
        return self.offsets.shape[0] - 1

    @property
    def lengths(self):
        """ndarray of shape (n_samples,), int64: steps in each sequence."""
        return self.offsets[1:] - self.offsets[:-1]  # np.diff, without its ~2 us of Python

    @functools.cached_property
    def uniform_length(self):
        """int or None: the length shared by every sequence (None if they differ)."""
        lengths = self.lengths
        if lengths.shape[0] and lengths.min() == lengths.max():
            return int(lengths[0])
        return None

    def __repr__(self):
        kind = "tokens" if self.is_tokens else "dense"
        return (
            f"Sequences(n_samples={self.n_samples}, n_steps={self.values.shape[0]}, "
            f"n_features={self.n_features}, {kind}, dtype={self.dtype.name})"
        )


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _name(estimator):
    return type(estimator).__name__


def _empty_error(estimator, what):
    # Same leading words as sklearn's check_array ("Found array with 0 sample(s)").
    return ValueError(
        f"Found array with 0 sample(s) ({what}) while a minimum of 1 is required "
        f"by {_name(estimator)}."
    )


def _reshape_advice():
    return (
        "Reshape your data: pass one univariate sequence x as [x] (a list of one "
        "sequence), several sequences as a list of 1-D or 2-D arrays, equal-length "
        "univariate sequences as a 2-D (n_samples, n_steps) array, or use "
        "x.reshape(1, -1) for a single sequence."
    )


# Up to this many values, _check_finite tests each one directly.
_SMALL_FINITE_CHECK = 1 << 16


def _check_finite(values, offsets, estimator, narrowed=False):
    """Raise a ValueError naming the first sequence holding NaN or infinity.

    ``narrowed``: ``values`` were cast down to float32 from wider input
    (predict with a float32 model), where a finite value past float32's
    range became infinite.
    """
    if values.size == 0:
        return
    if values.size <= _SMALL_FINITE_CHECK:
        # One sequence at predict: a direct test costs less than entering
        # np.errstate (~2 us), and the temporary mask is small.
        if np.isfinite(values).all():
            return
    else:
        # As sklearn's _assert_all_finite: a finite sum means no NaN/inf,
        # in O(1) memory (an overflowing sum falls through to the exact test).
        with np.errstate(over="ignore", invalid="ignore"):
            total = values.sum()
        if np.isfinite(total):
            return
    bad = ~np.isfinite(values)
    if bad.ndim == 2:
        bad = bad.any(axis=1)
    rows = np.flatnonzero(bad)
    if rows.size == 0:
        return
    seq_of_row = np.searchsorted(offsets, rows, side="right") - 1
    row, seq = int(rows[0]), int(seq_of_row[0])
    kind = "NaN" if np.isnan(values[row]).any() else "infinity"
    n_bad = np.unique(seq_of_row).shape[0]
    more = f"; {n_bad} sequences are affected" if n_bad > 1 else ""
    if kind == "infinity" and narrowed:
        kind = (
            "infinity, or a value beyond float32's range (about 3.4e38) made infinite "
            "by the cast to the model's float32"
        )
    raise ValueError(
        f"Input X contains {kind} (sequence {seq}, step {row - int(offsets[seq])})"
        f"{more}. {_name(estimator)} does not accept missing or infinite values: "
        "impute or drop them first."
    )


def _is_rectangular_table(X):
    """Whether a list/tuple is a rectangle of scalars, i.e. a 2-D table."""
    if len(X) == 0:
        return False
    first = X[0]
    if not isinstance(first, (list, tuple)) or len(first) == 0:
        return False
    width = len(first)
    for row in X:
        if not isinstance(row, (list, tuple)) or len(row) != width:
            return False
        for v in row:
            if isinstance(v, _NESTED):
                return False
    return True


def _check_names_unchanged(estimator, names_source):
    """sklearn's feature-name check at predict time.

    Skipped when neither the fit data nor X has names: the check would only
    find that out, through a dataframe-library probe costing ~30 us a call.
    """
    if names_source is None and not hasattr(estimator, "feature_names_in_"):
        return
    _check_feature_names(estimator, names_source, reset=False)


def _cells_hold_sequences(arr):
    """Whether a 2-D object table holds sequences in its cells (a DataFrame column of arrays)."""
    if isinstance(arr, pd.DataFrame):
        if arr.shape[0] == 0:
            return False
        # A dtype equals ``object`` for NumPy's object columns only (not a type check).
        firsts = [arr.iat[0, k] for k, dt in enumerate(arr.dtypes) if dt == object]  # noqa: E721
    elif isinstance(arr, np.ndarray) and arr.dtype == object and arr.ndim >= 2 and arr.size:
        firsts = [arr.flat[0]]
    else:
        return False
    return any(isinstance(v, (list, tuple, np.ndarray, pd.Series, pd.DataFrame)) for v in firsts)


def _layout(X):
    """'array' (table or 3-D), 'ragged' (container of sequences) or None."""
    if isinstance(X, np.ndarray):
        return "ragged" if X.dtype == object and X.ndim == 1 else "array"
    if isinstance(X, pd.DataFrame):
        return "array"
    if isinstance(X, pd.Series):
        # A numeric Series is one 1-D array (the ambiguous case, reported as
        # such); an object Series holds sequences.
        if isinstance(X.dtype, np.dtype) and X.dtype.kind in "biufc":
            return "array"
        return "ragged"
    if isinstance(X, (list, tuple)):
        return "array" if _is_rectangular_table(X) else "ragged"
    if hasattr(X, "__array__") or (hasattr(X, "shape") and hasattr(X, "columns")):
        return "array"
    if isinstance(X, _AbcSequence):
        return "ragged"
    return None


# ---------------------------------------------------------------------------
# 2-D tables and 3-D arrays
# ---------------------------------------------------------------------------
def _from_array(estimator, X, target_dtype=None):
    """Tables ``(n, T)`` and 3-D arrays ``(n, T, F)``, vectorised."""
    dataframe_like = hasattr(X, "columns") and hasattr(X, "shape")
    arr = X if isinstance(X, np.ndarray) or dataframe_like else np.asarray(X)
    ndim = len(arr.shape)
    dtype = getattr(arr, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "USa":
        raise TypeError(
            f"X holds strings (dtype {dtype}), but {_name(estimator)} takes numeric "
            "sequences. Turn text into token sequences with "
            "skrnn.TextOneHotEncoder first."
        )
    if _cells_hold_sequences(arr):
        raise ValueError(
            f"X is a {ndim}-D table (shape {tuple(arr.shape)}) whose cells hold sequences; "
            f"{_name(estimator)} reads a container of sequences: pass one column of them "
            "as a Series or a 1-D object array (df['seq'] rather than df[['seq']], or "
            "X[:, 0])."
        )
    if ndim == 0:
        raise ValueError(
            f"X is a scalar, not a set of sequences. {_reshape_advice()}"
        )
    if ndim == 1:
        raise ValueError(
            f"X is a 1-D array of shape {tuple(arr.shape)}, which is ambiguous: one "
            f"sequence, or one step of several? {_reshape_advice()}"
        )
    if ndim > 3:
        raise ValueError(
            f"X has {ndim} dimensions (shape {tuple(arr.shape)}); expected a 2-D "
            "(n_samples, n_steps) table, a 3-D (n_samples, n_steps, n_features) "
            "array or a list of sequences."
        )
    # One owned, C-contiguous copy (_own_copy).
    narrowed = target_dtype == np.float32 and (dtype is None or dtype != np.float32)
    if narrowed:
        # Values past float32's range become infinite in the copy, which
        # _check_finite reports naming the cast; numpy's overflow warning
        # ahead of that error would only add noise.
        with np.errstate(over="ignore"):
            arr = _own_copy(estimator, arr, target_dtype)
    else:
        arr = _own_copy(estimator, arr, target_dtype)
    n, steps = arr.shape[0], arr.shape[1]
    if ndim == 2:
        n_step, width, kind = 1, steps, "table"
    else:
        n_step = arr.shape[2]
        if n_step == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum "
                f"of 1 is required by {_name(estimator)}."
            )
        width, kind = n_step, "sequences"
    values = arr.reshape(n * steps, n_step)  # a view of our own copy
    offsets = np.arange(n + 1, dtype=np.int64) * steps
    _check_finite(values, offsets, estimator, narrowed)
    names_source = X if (kind == "table" and dataframe_like) else None
    seqs = Sequences(values, offsets, n_step, uniform_length=steps if n else None)
    return seqs, kind, width, names_source


def _own_copy(estimator, arr, target_dtype):
    """``_from_array``'s one C-contiguous copy of a table or 3-D array."""
    # float32/float64 kept, the rest -> float64.  check_array gives sklearn's
    # messages for empty data, complex data and non-numeric objects;
    # finiteness is checked later to name the sequence.  A plain non-empty
    # real ndarray needs none of that: copying it directly saves ~0.1-0.2 ms
    # per call, most of predicting one sequence.
    if type(arr) is np.ndarray and arr.dtype.kind in "fiub" and 0 not in arr.shape[:2]:
        if target_dtype is None:
            kept = arr.dtype.kind == "f" and arr.itemsize in (4, 8)
            target_dtype = arr.dtype if kept else np.float64
        return np.array(arr, dtype=target_dtype, order="C", copy=True)
    return check_array(
        arr,
        dtype=(np.float64, np.float32) if target_dtype is None else target_dtype,
        order="C",
        copy=True,
        ensure_all_finite=False,
        allow_nd=True,
        estimator=estimator,
        input_name="X",
    )


# ---------------------------------------------------------------------------
# ragged containers
# ---------------------------------------------------------------------------
def _pandas_to_numpy(obj, i):
    if isinstance(obj, pd.DataFrame):
        a = obj.to_numpy()
        if a.dtype.kind in "biufc":
            # Numeric columns, the common case, without the per-frame dtypes
            # Series below: 4 us a frame instead of ~45 (a list of 5,000
            # frames spent 65 % of a predict validating).
            return a
    dtypes = [obj.dtype] if isinstance(obj, pd.Series) else list(obj.dtypes)
    if all(isinstance(dt, np.dtype) and dt.kind in "biufc" for dt in dtypes):
        return obj.to_numpy()  # numeric numpy columns: result_type, no forced copy
    if all(dt == np.float32 for dt in dtypes):
        target = np.float32
    else:
        target = np.float64
    try:
        # Nullable / extension dtypes: pd.NA becomes NaN (reported later).
        return obj.to_numpy(dtype=target, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"Sequence {i} of X holds non-numeric values ({exc}); every step must "
            "be numbers. Use skrnn.TextOneHotEncoder for text."
        ) from None


def _step_array(seq, i):
    """Sequence ``i`` as a numeric ndarray (not copied when avoidable)."""
    if seq is None:
        raise TypeError(
            f"Sequence {i} of X is None, not a sequence; drop it, or pass a sequence "
            "of zero steps (shape (0, n_features))."
        )
    if isinstance(seq, (str, bytes)):
        raise TypeError(
            f"Sequence {i} of X is a string; the estimators take numeric sequences. "
            "Turn text into token sequences with skrnn.TextOneHotEncoder first."
        )
    if sp.issparse(seq):
        raise TypeError(
            f"Sequence {i} of X is a sparse {type(seq).__name__}; the estimators take "
            "dense sequences (call .toarray()), or token sequences from "
            "skrnn.TextOneHotEncoder, whose one-hot steps stay sparse."
        )
    if isinstance(seq, (pd.DataFrame, pd.Series)):
        a = _pandas_to_numpy(seq, i)
    else:
        try:
            a = np.asarray(seq)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Sequence {i} of X cannot be read as an array of shape (n_steps,) "
                f"or (n_steps, n_features): {exc}"
            ) from None
    kind = a.dtype.kind
    if kind == "O":
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError) as exc:
            # keep numpy's words ("float() argument must be a string or a real
            # number, not 'dict'"), as sklearn's check_array does
            raise TypeError(
                f"Sequence {i} of X holds non-numeric values: {exc}"
            ) from None
        kind = "f"
    if kind == "c":
        raise ValueError(f"Complex data not supported (sequence {i} of X).")
    if kind in "USa":
        raise TypeError(
            f"Sequence {i} of X holds strings (dtype {a.dtype}); the estimators take "
            "numeric sequences. Use skrnn.TextOneHotEncoder for text."
        )
    if kind not in "biuf":
        raise TypeError(
            f"Sequence {i} of X has dtype {a.dtype}; expected numbers."
        )
    if a.ndim == 0:
        raise ValueError(
            f"Sequence {i} of X is a scalar, not a sequence ({a.item()!r}): X looks "
            f"like a single 1-D sequence, which is ambiguous. {_reshape_advice()}"
        )
    if a.ndim > 2:
        raise ValueError(
            f"Sequence {i} of X has {a.ndim} dimensions (shape {a.shape}); each "
            "sequence must be 1-D (n_steps,) or 2-D (n_steps, n_features)."
        )
    return a


def _from_ragged(estimator, X, target_dtype=None, n_step_if_unstated=1):
    """Containers of sequences: one Python pass, one concatenation.

    ``n_step_if_unstated``: the features per step when no sequence states it
    (only zero-length 1-D ones, which fit any): at predict, the fitted count.
    """
    items = X.tolist() if isinstance(X, pd.Series) else list(X)
    n = len(items)
    if n == 0:
        raise _empty_error(estimator, f"X is an empty {type(X).__name__}")

    pieces = []  # non-empty 2-D arrays, or 2-D arrays with explicit F
    lengths = np.zeros(n, dtype=np.int64)
    n_step = None  # F, fixed by the first sequence that states it
    n_step_from = None
    all_f32 = True  # among non-empty sequences
    all_f32_any = True  # among all sequences (used if every one is empty)
    any_nonempty = False
    first_frame, first_frame_at = None, None  # names come from DataFrames only
    all_frames = True
    for i, seq in enumerate(items):
        is_frame = isinstance(seq, pd.DataFrame)
        if is_frame:
            if first_frame is None:
                first_frame, first_frame_at = seq, i
            elif not seq.columns.equals(first_frame.columns):
                raise ValueError(
                    f"The DataFrames in X have different columns: sequence {i} has "
                    f"{list(seq.columns)}, sequence {first_frame_at} has "
                    f"{list(first_frame.columns)}. "
                    "Every sequence must have the same columns in the same order."
                )
        else:
            all_frames = False
        a = _step_array(seq, i)
        is_f32 = a.dtype == np.float32
        all_f32_any &= is_f32
        if a.ndim == 1:
            length = a.shape[0]
            if length == 0:
                continue  # compatible with any F; contributes no rows
            a = a.reshape(length, 1)
        length, f = a.shape
        if n_step is None:
            n_step, n_step_from = f, i
        elif f != n_step:
            raise ValueError(
                f"Sequence {i} of X has {f} features per step, but sequence "
                f"{n_step_from} has {n_step}; all sequences in X must have the same "
                "number of features per step."
            )
        lengths[i] = length
        if length:
            any_nonempty = True
            all_f32 &= is_f32
        pieces.append(a)

    if n_step is None:
        n_step = n_step_if_unstated  # only zero-length 1-D sequences
    if n_step == 0:
        raise ValueError(
            f"Found sequences with 0 feature(s) (sequence {n_step_from} has shape "
            f"{np.shape(items[n_step_from])}) while a minimum of 1 is required by "
            f"{_name(estimator)}."
        )
    if target_dtype is None:
        f32 = all_f32 if any_nonempty else all_f32_any
        target_dtype = np.float32 if f32 else np.float64
    dtype = np.dtype(target_dtype)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # One copy of every step into a new C-contiguous array (``out`` fixes the
    # layout: concatenate alone would keep the pieces' Fortran order).
    values = np.empty((int(offsets[-1]), n_step), dtype=dtype)
    narrowed = dtype == np.float32 and not all_f32
    if pieces and narrowed:
        # "unsafe" narrows float64 to a float32 model at predict (dtype given);
        # an overflow is reported by _check_finite, not warned first.
        with np.errstate(over="ignore"):
            np.concatenate(pieces, axis=0, out=values, casting="unsafe")
    elif pieces:
        np.concatenate(pieces, axis=0, out=values, casting="unsafe")
    _check_finite(values, offsets, estimator, narrowed)
    names_source = first_frame if all_frames else None
    return Sequences(values, offsets, n_step), names_source


# ---------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------
def validate_sequences(estimator, X, *, reset, dtype=None):
    """Validate any accepted X and return it as ``Sequences``.

    Parameters
    ----------
    estimator : estimator instance
        With ``reset=True`` it receives ``n_features_in_``,
        ``feature_names_in_`` (set or deleted) and the private
        ``_n_step_features`` (features per step; vocabulary size for tokens)
        and ``_input_kind`` (``"table"``, ``"sequences"`` or ``"tokens"``).
        With ``reset=False`` X is checked against them; an estimator without
        ``_input_kind`` is not checked.
    X : list, tuple, Series or 1-D object ndarray of array-like of shape \
            (n_steps_i,) or (n_steps_i, n_features), array-like of shape \
            (n_samples, n_steps) or (n_samples, n_steps, n_features), or \
            TokenSequences
        Any X format of ``API.md``.  Never modified.
    reset : bool
        True on a first fit (and a first ``partial_fit``); False in predict,
        score, warm ``fit`` and later ``partial_fit`` calls.
    dtype : {np.float32, np.float64}, default=None
        Convert dense values to this dtype in the same single copy (predict
        passes the model's dtype); None keeps float32/float64 as described
        below.

    Returns
    -------
    sequences : Sequences
        Finite data in a new C-contiguous array (never sharing memory with
        X): float32 kept when every sequence is float32, float64 otherwise
        (ints and bools become float64).  Token input gives copies of the ids
        and offsets.  Zero-length sequences are kept.

    Raises
    ------
    ValueError
        Empty X, NaN/inf (naming the sequence), a 1-D numeric X, complex
        values, too many dimensions, zero features, inconsistent features
        per step, or an X incompatible with the fit (``reset=False``).
    TypeError
        Strings, sparse matrices, other non-numeric items, or an
        unrecognised container.

    Notes
    -----
    ``n_features_in_`` is the table's width T for a 2-D table and the
    features per step F for ragged containers and 3-D arrays (the
    vocabulary size for tokens).  ``feature_names_in_`` comes from a
    DataFrame table's string columns (sklearn's own logic and messages), or
    from the shared string columns when every sequence of a ragged container
    is a DataFrame (per-step feature names).

    At predict, a 2-D table is checked against ``n_features_in_`` only if the
    fit was on a table; otherwise it is read as univariate sequences and
    must match one feature per step.  Feature names are compared only
    between inputs of the same family (table with table, sequences with
    sequences): a table's column names name steps, not per-step features.
    3-D arrays may have any number of steps at predict.
    """
    if isinstance(X, TokenSequences):
        if len(X) == 0:
            raise _empty_error(estimator, "X holds no documents")
        ids = X.token_ids.copy()
        # Checked again here, not only when the container was built: the ids
        # index weight rows inside Numba kernels, where an id edited in place
        # since then would read out of bounds instead of raising.
        if ids.size and (ids.min() < 0 or ids.max() >= X.n_vocabulary):
            raise ValueError(
                f"X holds token ids outside [0, {X.n_vocabulary}) (range "
                f"[{ids.min()}, {ids.max()}]); was its token_ids array modified?"
            )
        seqs = Sequences(ids, X.offsets.copy(), X.n_vocabulary, True, X.dtype)
        kind, width, n_step, names_source = "tokens", X.n_vocabulary, X.n_vocabulary, None
    elif sp.issparse(X):
        raise TypeError(
            "Sparse data was passed for X, but dense data is required. skrnn reads "
            "text as token sequences from skrnn.TextOneHotEncoder; call .toarray() "
            "on other sparse matrices."
        )
    elif isinstance(X, (str, bytes)):
        raise TypeError(
            f"X is a single string; {_name(estimator)} takes numeric sequences. Turn "
            "text into token sequences with skrnn.TextOneHotEncoder first."
        )
    else:
        layout = _layout(X)
        if layout == "array":
            seqs, kind, width, names_source = _from_array(estimator, X, dtype)
            n_step = seqs.n_features
        elif layout == "ragged":
            unstated = 1 if reset else getattr(estimator, "_n_step_features", 1)
            seqs, names_source = _from_ragged(estimator, X, dtype, unstated)
            kind, n_step = "sequences", seqs.n_features
            width = n_step
        else:
            raise TypeError(
                f"{_name(estimator)} expects a list of sequences, a 2-D table, a 3-D "
                "array or the output of TextOneHotEncoder; got "
                f"{type(X).__name__}."
            )

    if reset:
        # Sets feature_names_in_ from a DataFrame with string columns (sklearn's
        # rules, incl. its TypeError on mixed column types), deletes a stale one.
        _check_feature_names(estimator, names_source, reset=True)
        estimator.n_features_in_ = int(width)
        estimator._n_step_features = int(n_step)
        estimator._input_kind = kind
    else:
        _check_compatible(estimator, kind, width, n_step, names_source)
    return seqs


def _check_compatible(estimator, kind, width, n_step, names_source):
    """Predict-time checks of X against what ``reset=True`` recorded."""
    fitted_kind = getattr(estimator, "_input_kind", None)
    if fitted_kind is None:
        return
    name = _name(estimator)
    if (kind == "tokens") != (fitted_kind == "tokens"):
        if fitted_kind == "tokens":
            raise ValueError(
                f"{name} was fitted on token sequences (TextOneHotEncoder output) "
                "and cannot take dense numeric sequences; transform X with the "
                "same TextOneHotEncoder."
            )
        raise ValueError(
            f"{name} was fitted on dense numeric sequences and cannot take token "
            "sequences (TextOneHotEncoder output)."
        )
    expected = estimator._n_step_features
    if kind == "tokens":
        if n_step != expected:
            raise ValueError(
                f"X has a vocabulary of {n_step} tokens, but {name} was fitted on a "
                f"vocabulary of {expected}; use the TextOneHotEncoder fitted with "
                "the model."
            )
        return
    if kind == "table" and fitted_kind == "table":
        # sklearn's order: feature names first, then the width.
        _check_names_unchanged(estimator, names_source)
        if width != estimator.n_features_in_:
            raise ValueError(
                f"X has {width} features, but {name} is expecting "
                f"{estimator.n_features_in_} features as input."
            )
        return
    if kind == "table":
        if expected != 1:
            raise ValueError(
                f"X is a 2-D table of univariate sequences (1 feature per step), "
                f"but {name} was fitted on sequences with {expected} features per "
                f"step. Pass a 3-D array of shape (n_samples, n_steps, {expected}) "
                f"or a list of arrays of shape (n_steps_i, {expected})."
            )
        return
    if fitted_kind == "table":
        if n_step != 1:
            raise ValueError(
                f"X has {n_step} features per step, but {name} was fitted on a 2-D "
                "table of univariate sequences (1 feature per step)."
            )
        return
    try:
        _check_names_unchanged(estimator, names_source)
    except ValueError as exc:
        raise ValueError(
            f"The sequences' column names differ from those seen at fit. {exc}"
        ) from None
    if n_step != expected:
        raise ValueError(
            f"X has {n_step} features per step, but {name} was fitted on sequences "
            f"with {expected} features per step."
        )


# ---------------------------------------------------------------------------
# targets and outputs
# ---------------------------------------------------------------------------
def _num_samples(y):
    shape = getattr(y, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise TypeError(
                f"y must be an array-like with one entry per sequence, got the scalar "
                f"{y!r}."
            )
        if isinstance(shape[0], numbers.Integral):
            return int(shape[0])
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        raise TypeError(
            f"y must be an array-like with one entry per sequence, got "
            f"{type(y).__name__}."
        )
    return len(y)


def check_n_samples(sequences, y):
    """Check that ``y`` has one entry per sequence.

    Parameters
    ----------
    sequences : Sequences
        The validated X.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), or list
        Targets (or sample weights), one entry per sequence.

    Raises
    ------
    ValueError
        ``"Found input variables with inconsistent numbers of samples: [n_X,
        n_y]"``, as sklearn's ``check_consistent_length``.
    TypeError
        ``y`` is a scalar or has no length.
    """
    n_y = _num_samples(y)
    if n_y != sequences.n_samples:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{sequences.n_samples}, {n_y}]"
        )


def validate_step_targets(y, sequences):
    """Per-step labels of the tagger, flattened to align with ``sequences.values``.

    Parameters
    ----------
    y : list, tuple, Series or 1-D object ndarray of array-like of shape \
            (n_steps_i,), or array-like of shape (n_samples, n_steps)
        One label sequence per X sequence, each exactly as long as it; labels
        of any type (ints, strings, ...).  A 2-D array or DataFrame is read
        row by row (row ``i`` labels sequence ``i``), which suits
        equal-length sequences.  Never modified.
    sequences : Sequences
        The validated X.

    Returns
    -------
    labels : ndarray of shape (n_steps_total,)
        Row ``r`` is the label of ``sequences.values[r]``.  A new array: the
        dtype numpy gives the concatenation when every label sequence is
        numeric (bool, int, float) or every one is a str array (as
        ``np.asarray`` makes of a list of strings), else ``object``.
        Zero-length label sequences do not take part in the choice of dtype.

    Raises
    ------
    ValueError
        ``y`` is a 1-D array of labels (one per sequence) or an array of
        more than 2 dimensions instead of label sequences; the number of
        label sequences differs from the number of X sequences; a label
        sequence is a single label or not 1-D (e.g. 2-D one-hot rows), or its
        length differs from its X sequence (naming the index and both
        lengths); a label sequence holds NaN, infinity or missing values.
    TypeError
        ``y`` is not a container.
    """
    n = sequences.n_samples
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__") or sp.issparse(y):
        raise TypeError(
            "y must be a list of label sequences (one per X sequence), got "
            f"{type(y).__name__}."
        )
    if isinstance(y, pd.DataFrame):
        y = y.to_numpy()
    if isinstance(y, np.ndarray) and y.ndim > 2:
        raise ValueError(
            f"y is a {y.ndim}-D array of shape {y.shape}, but the sequence tagger "
            "expects label sequences: a list of 1-D label arrays (one per X "
            "sequence, each as long as it) or a 2-D (n_samples, n_steps) array."
        )
    if (isinstance(y, np.ndarray) and y.dtype != object and y.ndim == 1) or (
        isinstance(y, pd.Series) and y.dtype != object
    ):
        raise ValueError(
            f"y is a 1-D array of {len(y)} labels, but the sequence tagger needs one "
            "label per step: pass a list of label sequences, each as long as its X "
            "sequence."
        )
    items = y.tolist() if isinstance(y, pd.Series) else list(y)
    if len(items) != n:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{n}, {len(items)}] (sequences in X, label sequences in y)."
        )
    lengths = sequences.lengths.tolist()
    arrays = []
    for i, (labels, length) in enumerate(zip(items, lengths)):
        if isinstance(labels, (str, bytes)):
            raise ValueError(
                f"y[{i}] is the single label {labels!r}, not a sequence of labels; "
                "the tagger needs one label per step (a list such as "
                f"[{labels!r}, ...])."
            )
        if isinstance(labels, (pd.Series, pd.Index)):
            a = labels.to_numpy()
        else:
            try:
                a = np.asarray(labels)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"y[{i}] cannot be read as a 1-D sequence of labels: {exc}"
                ) from None
        if (
            a.dtype.kind == "U"
            and isinstance(labels, (list, tuple))
            and not set(map(type, labels)) <= _STR_TYPES  # ~4x cheaper than an isinstance loop
        ):
            # NumPy made the numbers among these strings strings ('1'); as
            # objects, the mix is reported like a mix across sequences.
            a = np.asarray(labels, dtype=object)
        if a.ndim == 0:
            raise ValueError(
                f"y[{i}] is the single label {a.item()!r}, not a sequence of labels; "
                "the tagger needs one label per step."
            )
        if a.ndim != 1:
            raise ValueError(
                f"y[{i}] must be a 1-D sequence of labels (one label per step), got "
                f"shape {a.shape}."
            )
        if a.shape[0] != length:
            raise ValueError(
                f"y[{i}] has {a.shape[0]} labels but X sequence {i} has {length} "
                "steps; the tagger needs exactly one label per step."
            )
        if a.dtype.kind == "f":
            if not np.isfinite(a).all():
                raise ValueError(
                    f"y[{i}] contains NaN or infinite labels; every step needs a "
                    "label."
                )
        elif a.dtype.kind == "O" and a.shape[0] and pd.isna(a).any():
            raise ValueError(
                f"y[{i}] contains missing labels (None or NaN); every step needs a "
                "label."
            )
        arrays.append(a)
    source = [a for a in arrays if a.shape[0]] or arrays
    # All numeric or all str arrays concatenate safely (numpy widens the
    # type); a mix would turn 1 into '1', so it goes through object.
    if all(a.dtype.kind in "biuf" for a in source) or all(a.dtype.kind == "U" for a in source):
        return np.concatenate(source)
    return np.concatenate([a.astype(object, copy=False) for a in source])


_STR_TYPES = {str, np.str_}


def split_steps(flat, offsets):
    """Cut per-step rows back into one array per sequence.

    Parameters
    ----------
    flat : ndarray of shape (n_steps_total, ...)
        Rows aligned with ``Sequences.values`` (per-step predictions,
        probabilities, labels).
    offsets : ndarray of shape (n_samples + 1,)
        ``Sequences.offsets``.

    Returns
    -------
    parts : list of length n_samples of ndarray of shape (n_steps_i, ...)
        Views into ``flat`` (no copy): writing into one part writes into
        ``flat``.  Zero-length sequences give empty arrays.
    """
    bounds = np.asarray(offsets).tolist()
    return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
