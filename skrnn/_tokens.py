"""Token sequences: the sparse one-hot container produced by TextOneHotEncoder.

A document of ``T`` tokens is a sequence of ``T`` one-hot vectors over the
vocabulary.  Only the token ids are stored, flat, with CSR-style offsets, so a
corpus costs ``8 * (n_tokens + n_samples)`` bytes whatever the vocabulary size.

The container is deliberately array-like enough for scikit-learn's plumbing:

* ``shape == (n_samples, n_vocabulary)`` and ``ndim == 2``, so
  ``_safe_indexing`` (cross-validation splits) indexes it with ``X[key, ...]``,
  ``_num_samples`` counts documents and ``ColumnTransformer`` accepts it as a
  2-D output whose width matches ``get_feature_names_out``;
* ``np.hstack`` / ``np.concatenate`` of a single container return it
  unchanged (``ColumnTransformer`` stacks its outputs even when there is only
  one); anything that would densify it raises ``TypeError``.
"""

import numbers

import numpy as np

from ._batching import sequence_rows

__all__ = ["TokenSequences"]


class TokenSequences:
    """Ragged sequences of token ids, one sequence per document.

    Parameters
    ----------
    token_ids : ndarray of shape (n_tokens,), dtype int64
        Token ids of all documents, concatenated.  Ids lie in
        ``[0, n_vocabulary)``.
    offsets : ndarray of shape (n_samples + 1,), dtype int64
        Document ``i`` is ``token_ids[offsets[i]:offsets[i + 1]]``.
    n_vocabulary : int
        Width of the one-hot vectors (the number of input features).
    dtype : numpy dtype, default=np.float64
        Float dtype of the one-hot vectors this container stands for; models
        fitted on it compute in this dtype.
    """

    # Make numpy defer to us in binary operations instead of densifying.
    __array_priority__ = 1000

    def __init__(self, token_ids, offsets, n_vocabulary, dtype=np.float64):
        token_ids = np.ascontiguousarray(token_ids, dtype=np.int64)
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        if token_ids.ndim != 1 or offsets.ndim != 1 or offsets.shape[0] < 1:
            raise ValueError("token_ids and offsets must be 1-D, offsets non-empty.")
        if offsets[0] != 0 or offsets[-1] != token_ids.shape[0]:
            raise ValueError(
                "offsets must start at 0 and end at len(token_ids); got "
                f"{offsets[0]} and {offsets[-1]} for {token_ids.shape[0]} tokens."
            )
        if np.any(np.diff(offsets) < 0):
            raise ValueError("offsets must be non-decreasing.")
        n_vocabulary = int(n_vocabulary)
        if token_ids.size and (token_ids.min() < 0 or token_ids.max() >= n_vocabulary):
            raise ValueError(
                f"token ids must lie in [0, {n_vocabulary}); got range "
                f"[{token_ids.min()}, {token_ids.max()}]."
            )
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dtype}.")
        self.token_ids = token_ids
        self.offsets = offsets
        self.n_vocabulary = n_vocabulary
        self.dtype = dtype

    # -- array-like protocol -------------------------------------------------
    @property
    def shape(self):
        return (self.offsets.shape[0] - 1, self.n_vocabulary)

    @property
    def ndim(self):
        return 2

    @property
    def lengths(self):
        """ndarray of shape (n_samples,): number of tokens in each document."""
        return np.diff(self.offsets)

    def __len__(self):
        return self.offsets.shape[0] - 1

    def __iter__(self):
        # Copies, like X[i]: a caller editing a document must not edit ours.
        for i in range(len(self)):
            yield self.token_ids[self.offsets[i] : self.offsets[i + 1]].copy()

    def __getitem__(self, key):
        if isinstance(key, tuple):
            # ``X[key, ...]`` from sklearn's _safe_indexing; only rows can be taken.
            rest = key[1:]
            if len(key) == 0 or any(k is not Ellipsis for k in rest):
                raise IndexError(
                    "TokenSequences can only be indexed along samples (axis 0)."
                )
            key = key[0]
        n = len(self)
        if isinstance(key, numbers.Integral) and not isinstance(key, (bool, np.bool_)):
            i = int(key)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of range for {n} sequences.")
            i %= n
            return self.token_ids[self.offsets[i] : self.offsets[i + 1]].copy()
        if isinstance(key, slice):
            rows = np.arange(n)[key]
        else:
            rows = np.asarray(key)
            if rows.dtype == bool:
                if rows.shape != (n,):
                    raise IndexError(
                        f"boolean index of shape {rows.shape} does not match "
                        f"{n} sequences."
                    )
                rows = np.flatnonzero(rows)
            elif rows.size == 0:
                rows = rows.astype(np.int64)
            elif not np.issubdtype(rows.dtype, np.integer):
                raise IndexError(
                    f"TokenSequences indices must be integers, got {rows.dtype}."
                )
            if rows.ndim != 1:
                raise IndexError("TokenSequences takes a 1-D index of rows.")
            if rows.size and (rows.min() < -n or rows.max() >= n):
                raise IndexError(f"index out of range for {n} sequences.")
            rows = rows % max(n, 1)
        return self.take(rows)

    def take(self, rows):
        """Return the documents ``rows`` (int array) as a new container."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.offsets[rows + 1] - self.offsets[rows]
        new_offsets = np.zeros(rows.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths, out=new_offsets[1:])
        src = sequence_rows(self.offsets, rows)
        return TokenSequences(
            self.token_ids[src], new_offsets, self.n_vocabulary, self.dtype
        )

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "TokenSequences holds one-hot token sequences sparsely and cannot be "
            "converted to a dense array or a DataFrame; pass it to an skrnn "
            "estimator instead. Under sklearn.set_config(transform_output='pandas'), "
            "call set_output(transform='default') on the ColumnTransformer or "
            "Pipeline that outputs it."
        )

    def __array_function__(self, func, types, args, kwargs):
        # ColumnTransformer always stacks its outputs, even a single one.
        if func in (np.hstack, np.concatenate):
            arrays = args[0] if args else kwargs.get("tup", kwargs.get("arrays"))
            arrays = list(arrays)
            if len(arrays) == 1 and isinstance(arrays[0], TokenSequences):
                return arrays[0]
            raise TypeError(
                "TokenSequences cannot be stacked with other columns; give the "
                "text column its own pipeline step (ColumnTransformer with the "
                "encoder as its only transformer)."
            )
        return NotImplemented

    def __eq__(self, other):
        if not isinstance(other, TokenSequences):
            return NotImplemented
        return (
            self.n_vocabulary == other.n_vocabulary
            and self.dtype == other.dtype
            and np.array_equal(self.offsets, other.offsets)
            and np.array_equal(self.token_ids, other.token_ids)
        )

    __hash__ = None

    def __repr__(self):
        return (
            f"TokenSequences(n_samples={len(self)}, n_tokens="
            f"{self.token_ids.shape[0]}, n_vocabulary={self.n_vocabulary}, "
            f"dtype={self.dtype.name})"
        )
