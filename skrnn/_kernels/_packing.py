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
def packed_layout(offsets, idx):
    """``(order, lengths, batch_sizes, rows)`` of the sequences ``idx`` in the packed layout.

    ``order``: positions in ``idx`` sorted by decreasing length, stably (equal
    lengths keep their order in ``idx``, so the layout never depends on a
    tie-break); ``lengths`` in that order; ``batch_sizes[t]``: how many are
    longer than ``t``; ``rows``: ``pack_rows`` of them.  A counting sort by
    length: one pass, no comparison sort.
    """
    n = idx.shape[0]
    raw = np.empty(n, dtype=np.int64)
    n_steps = 0
    for b in range(n):
        raw[b] = offsets[idx[b] + 1] - offsets[idx[b]]
        if raw[b] > n_steps:
            n_steps = raw[b]
    # How many sequences have each length, then, in the same array, the
    # first slot of each length: longest first, after every longer sequence.
    slot = np.zeros(n_steps + 1, dtype=np.int64)
    for b in range(n):
        slot[raw[b]] += 1
    batch_sizes = np.empty(n_steps, dtype=np.int64)
    longer = 0
    for length in range(n_steps, -1, -1):
        count = slot[length]
        slot[length] = longer
        longer += count
        if length > 0:
            batch_sizes[length - 1] = longer
    order = np.empty(n, dtype=np.int64)
    lengths = np.empty(n, dtype=np.int64)
    for b in range(n):
        k = slot[raw[b]]
        slot[raw[b]] = k + 1
        order[k] = b
        lengths[k] = raw[b]
    sorted_idx = np.empty(n, dtype=np.int64)
    for k in range(n):
        sorted_idx[k] = idx[order[k]]
    return order, lengths, batch_sizes, pack_rows(offsets, sorted_idx, batch_sizes)


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
def part_rows(batch_sizes, lo, hi):
    """``(rows, part_sizes)``: sorted sequences ``lo:hi`` of a packed batch, packed on their own.

    ``rows`` are the batch's rows of those sequences in their own packed
    order (step by step), ``part_sizes`` their ``batch_sizes``.
    """
    n_steps = 0
    n_rows = 0
    for t in range(batch_sizes.shape[0]):
        live = min(batch_sizes[t], hi) - lo
        if live <= 0:  # batch sizes never grow: no later step has any either
            break
        n_steps += 1
        n_rows += live
    part_sizes = np.empty(n_steps, dtype=np.int64)
    rows = np.empty(n_rows, dtype=np.int64)
    start = 0
    r = 0
    for t in range(n_steps):
        live = min(batch_sizes[t], hi) - lo
        part_sizes[t] = live
        for b in range(live):
            rows[r] = start + lo + b
            r += 1
        start += batch_sizes[t]
    return rows, part_sizes


@numba.njit(cache=True, nogil=True)
def end_rows(batch_sizes, lengths):
    """``(last, first)``: the packed rows of each sorted sequence's last and first step.

    -1 for both of a zero-length sequence.
    """
    n = lengths.shape[0]
    starts = step_starts(batch_sizes)
    last = np.empty(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    for b in range(n):
        if lengths[b] > 0:
            last[b] = starts[lengths[b] - 1] + b
            first[b] = b
        else:
            last[b] = -1
            first[b] = -1
    return last, first


@numba.njit(cache=True, nogil=True)
def previous_states(h_all, h0, batch_sizes, reverse, out):
    """Row-aligned copy of the state each packed row's step started from.

    Forward direction: step ``t`` continues from step ``t - 1``.  Reverse
    direction: step ``t`` continues from step ``t + 1`` when the sequence is
    that long.  A sequence's first processed step starts from its row of
    ``h0`` (sorted order).  ``out`` has the rows of ``h_all`` and at least
    its columns; the states go to its first ones.
    """
    hidden = h_all.shape[1]
    n_steps = batch_sizes.shape[0]
    starts = step_starts(batch_sizes)
    for t in range(n_steps):
        r0 = starts[t]
        bs = batch_sizes[t]
        if not reverse:
            n_prev = bs if t > 0 else 0
            p0 = starts[t - 1] if t > 0 else 0
        else:
            n_prev = batch_sizes[t + 1] if t + 1 < n_steps else 0
            p0 = starts[t + 1] if t + 1 < n_steps else 0
        for b in range(bs):
            src = h_all[p0 + b] if b < n_prev else h0[b]
            dst = out[r0 + b]
            for j in range(hidden):
                dst[j] = src[j]


@numba.njit(cache=True, nogil=True)
def balanced_cuts(lengths, n_parts):
    """Boundaries cutting the runs ``lengths`` (all non-zero) into ``n_parts`` of about equal sum.

    Part ``k`` ends after the first run at which the running sum reaches
    ``k / n_parts`` of the total; equal boundaries collapse into one, so
    there can be fewer parts.  Returns int64 ``[0, ..., len(lengths)]``.
    """
    n = lengths.shape[0]
    work = np.empty(n, dtype=np.int64)
    acc = 0
    for i in range(n):
        acc += lengths[i]
        work[i] = acc
    bounds = np.empty(n_parts + 1, dtype=np.int64)
    bounds[0] = 0
    n_bounds = 1
    i = 0
    for k in range(1, n_parts + 1):
        if k < n_parts:
            target = acc * k / n_parts
            while i < n and work[i] < target:
                i += 1
            cut = i + 1
        else:
            cut = n
        if cut > bounds[n_bounds - 1]:
            bounds[n_bounds] = cut
            n_bounds += 1
    return bounds[:n_bounds]


@numba.njit(cache=True, nogil=True)
def chunk_starts(lengths, max_rows, max_sequences):
    """First sequence of each chunk when sequences are taken in order, greedily.

    A sequence opens a new chunk when the current one already holds
    ``max_sequences`` sequences or at least ``max_rows`` rows, so a chunk's
    rows before its last sequence stay below ``max_rows``.
    """
    n = lengths.shape[0]
    starts = np.empty(n, dtype=np.int64)
    n_chunks = 0
    count = 0
    rows = 0
    for i in range(n):
        if i == 0 or count == max_sequences or rows >= max_rows:
            starts[n_chunks] = i
            n_chunks += 1
            count = 0
            rows = 0
        count += 1
        rows += lengths[i]
    return starts[:n_chunks]
