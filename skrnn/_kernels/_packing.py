"""Index arithmetic of the packed, time-major batch layout.

A batch of ``B`` sequences is sorted by decreasing length ``L_0 >= L_1 >= ...``
(zero-length sequences last).  ``batch_sizes[t]`` is the number of sequences
still running at step ``t``, so the live sequences form a prefix and step
``t`` occupies the contiguous rows ``step_start[t] : step_start[t] + batch_sizes[t]``
(torch's PackedSequence layout).  Row ``step_start[t] + b`` holds step ``t`` of
sorted sequence ``b``.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def step_starts(batch_sizes):
    """Exclusive cumulative sum of ``batch_sizes`` (first row of each step)."""
    starts = np.empty(batch_sizes.shape[0], dtype=np.int64)
    acc = 0
    for t in range(batch_sizes.shape[0]):
        starts[t] = acc
        acc += batch_sizes[t]
    return starts


@numba.njit(cache=True, nogil=True)
def pack_rows(offsets, order, batch_sizes):
    """Source row (in the ragged ``values``) of every packed row.

    ``order[b]`` is the sequence index of sorted position ``b``; sequence ``i``
    occupies ``values[offsets[i]:offsets[i + 1]]``.
    """
    n_rows = 0
    for t in range(batch_sizes.shape[0]):
        n_rows += batch_sizes[t]
    rows = np.empty(n_rows, dtype=np.int64)
    r = 0
    for t in range(batch_sizes.shape[0]):
        for b in range(batch_sizes[t]):
            rows[r] = offsets[order[b]] + t
            r += 1
    return rows


@numba.njit(cache=True, nogil=True)
def previous_rows(batch_sizes, reverse):
    """Packed row of the state each row's step starts from, -1 for the zero state.

    Forward direction: step ``t`` continues from step ``t - 1``.  Reverse
    direction: step ``t`` continues from step ``t + 1`` when the sequence is
    that long, else from the zero initial state.
    """
    n_steps = batch_sizes.shape[0]
    starts = step_starts(batch_sizes)
    n_rows = 0
    for t in range(n_steps):
        n_rows += batch_sizes[t]
    prev = np.empty(n_rows, dtype=np.int64)
    for t in range(n_steps):
        for b in range(batch_sizes[t]):
            r = starts[t] + b
            if not reverse:
                prev[r] = starts[t - 1] + b if t > 0 else -1
            elif t + 1 < n_steps and b < batch_sizes[t + 1]:
                prev[r] = starts[t + 1] + b
            else:
                prev[r] = -1
    return prev
