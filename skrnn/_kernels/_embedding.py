"""One-hot token input without one-hot vectors: row gathers and scatter-adds.

A one-hot vector times a weight matrix selects one column of it; with the
matrix stored transposed that column is one contiguous row, so the input
projection of a token costs O(width) whatever the vocabulary size, and its
gradient touches only the rows of the tokens in the batch.
"""

import numba


@numba.njit(cache=True, nogil=True)
def gather_rows(table, ids, bias, out):
    """``out[r] = table[ids[r]] + bias`` for every row ``r``."""
    width = table.shape[1]
    for r in range(ids.shape[0]):
        src = ids[r]
        for j in range(width):
            out[r, j] = table[src, j] + bias[j]


@numba.njit(cache=True, nogil=True)
def scatter_add_rows(src, ids, table):
    """``table[ids[r]] += src[r]`` for every row ``r`` (repeated ids accumulate)."""
    width = src.shape[1]
    for r in range(ids.shape[0]):
        dst = ids[r]
        for j in range(width):
            table[dst, j] += src[r, j]
