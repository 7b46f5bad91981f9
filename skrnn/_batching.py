"""Mini-batch plans and packed (time-major, length-sorted) batches."""

from dataclasses import dataclass, field

import numpy as np

from ._kernels._packing import balanced_cuts, chunk_starts, packed_layout, part_rows, step_starts

__all__ = [
    "PackedBatch",
    "pack_batch",
    "batch_part",
    "shard_bounds",
    "batch_plan",
    "chunk_ranges",
    "chunk_rows",
    "sequence_rows",
    "time_chunks",
]


# A shard is a range of at least this many sorted sequences (when the batch
# has them): a kernel's per-step product over 16 rows cost 60-65 % of the
# same product over 32 (single-thread OpenBLAS, LSTM 32-128), so smaller
# shards lose more than a second core gains on a 32-sequence batch...
SHARD_SEQUENCES = 32
# ... unless each step carries enough work per sequence (n_gates * hidden**2,
# the recurrent product's multiply-adds): then a batch of 32-63 sequences is
# cut in two.  On 2 threads a training step at batch 32 ran 1.2x (LSTM 64,
# GRU 64, RNN 128) to 1.3-1.8x (LSTM 128, GRU 128) faster; below this (LSTM
# 32, RNN 64) the second core gained nothing and the 16-row products lost.
# The cut still depends on shapes only, so results do not depend on threads.
HALVE_STEP_WORK = 3 * 64 * 64
# A training batch of a gated cell (LSTM, GRU) run as parts
# (``_parts.PART_GRADIENT_BYTES``) is halved from less work a step: a part
# is projected, run and differentiated on its own core, so the second core
# no longer pays in cache traffic and hand-overs what it gains, and the
# gates' arithmetic is work the halves share.  A/B in one process, batch
# 32, halved against whole, two threads: LSTM-32 (4,096) 0.75-0.89x the
# time, GRU-40 (4,800) 0.73-0.76x, GRU-48 0.72-0.87x, but GRU-32 (3,072)
# 1.06x in three A/Bs of four.  On one thread (joblib's workers at
# n_jobs=cores) the halves run in turn: LSTM-32 1.11-1.17x, GRU-40 and
# GRU-48 1.10-1.11x.  The simple RNN keeps HALVE_STEP_WORK: RNN-64 (4,096)
# gained 0.85x on two threads and lost 1.17x on one.
GATED_PART_HALVE_STEP_WORK = 4 * 32 * 32
MAX_SHARDS = 16


def shard_bounds(lengths, step_work=0, halve_from=HALVE_STEP_WORK):
    """Split sorted sequences into shards of about equal total length.

    ``lengths`` are decreasing; ``step_work`` is the recurrent product's
    multiply-adds per sequence and step (``n_gates * hidden**2``); a batch of
    ``SHARD_SEQUENCES`` to twice that many is halved from ``halve_from`` of
    them.  Returns int64 boundaries ``b`` (shard ``k`` is sorted sequences
    ``b[k]:b[k + 1]``) over the sequences of non-zero length.  The split
    depends on the lengths and the two numbers only, never on the number of
    threads, so results are the same however many shards run at once.
    """
    n_live = int(np.count_nonzero(lengths))
    n_shards = min(max(n_live // SHARD_SEQUENCES, 1), MAX_SHARDS)
    if n_shards == 1 and n_live >= SHARD_SEQUENCES and step_work >= halve_from:
        n_shards = 2
    if n_shards == 1:
        return np.array([0, n_live], dtype=np.int64)
    # One Numba walk: NumPy's cumsum, searchsorted and unique took 17 us,
    # and up to 80 us inside an LSTM-64 step (a new batch's first forward).
    return balanced_cuts(lengths[:n_live], n_shards)


def sequence_rows(offsets, idx):
    """Rows of the flat values of sequences ``idx``, concatenated in ``idx`` order.

    ``offsets`` is a CSR-style indptr: sequence ``i`` is rows
    ``offsets[i]:offsets[i + 1]``.
    """
    idx = np.asarray(idx, dtype=np.int64)
    lengths = offsets[idx + 1] - offsets[idx]
    starts = np.repeat(offsets[idx], lengths)
    within = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return starts + within


@dataclass
class PackedBatch:
    """A batch in the packed layout of ``docs/internals.md``.

    Attributes
    ----------
    x : ndarray
        Packed input rows, ``(N, F)`` float, or ``(N,)`` int64 token ids.
    batch_sizes : ndarray of shape (n_steps,), int64
        Number of live sequences at each step.
    lengths : ndarray of shape (B,), int64
        Lengths in sorted (decreasing) order; zero-length sequences last.
    order : ndarray of shape (B,), int64
        ``order[b]`` is the position, in the requested index list, of sorted
        sequence ``b``: results in sorted order ``r`` go back with
        ``out[order] = r``.
    rows : ndarray of shape (N,), int64
        Row of ``Sequences.values`` each packed row was taken from, so any
        per-step array aligned with ``values`` can be packed the same way.
    y, w : ndarray or None
        Targets and weights, in sorted order (many-to-one) or packed order
        (many-to-many).
    whole : bool
        Run as one shard whatever its size: a part of a larger batch
        (``batch_part``), which already runs on a thread of its own.
    """

    x: np.ndarray
    batch_sizes: np.ndarray
    lengths: np.ndarray
    order: np.ndarray
    rows: np.ndarray
    y: object = None
    w: object = None
    whole: bool = False

    _shard_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def shards(self, step_work=0, halve_from=HALVE_STEP_WORK):
        """Boundaries of the batch's shards in sorted order (see ``shard_bounds``)."""
        key = (step_work, halve_from)
        bounds = self._shard_cache.get(key)
        if bounds is None:
            if self.whole:  # every live sequence runs at step 0
                n_live = self.batch_sizes[0] if self.batch_sizes.shape[0] else 0
                bounds = np.array([0, n_live], dtype=np.int64)
            else:
                bounds = shard_bounds(self.lengths, step_work, halve_from)
            self._shard_cache[key] = bounds
        return bounds

    def weight_total(self, per_step):
        """The batch's total sample weight: the weights' sum, or without weights
        the number of targets (rows for ``per_step``, else sequences)."""
        if self.w is not None:
            return float(np.sum(self.w, dtype=np.float64))
        return float(self.n_rows if per_step else self.n_sequences)

    @property
    def n_sequences(self):
        return self.lengths.shape[0]

    @property
    def n_rows(self):
        return self.rows.shape[0]


def pack_batch(seqs, idx, *, y=None, w=None, per_step=False):
    """Pack sequences ``idx`` of a ``Sequences`` into a ``PackedBatch``.

    ``y``/``w`` are indexed by sequence (many-to-one) or aligned with the rows
    of ``seqs.values`` (``per_step=True``); they are reordered to match.
    """
    idx = np.asarray(idx, dtype=np.int64)
    order, lengths, batch_sizes, rows = packed_layout(seqs.offsets, idx)
    # np.take, not values[rows]: NumPy's fancy indexing walks 8-feature rows
    # element by element (131 us for 256 sequences of 50 steps, 17 us taken).
    x = np.take(seqs.values, rows, axis=0)
    if per_step:
        yb = None if y is None else y[rows]
        wb = None if w is None else w[rows]
    else:
        sel = idx[order]
        yb = None if y is None else y[sel]
        wb = None if w is None else w[sel]
    return PackedBatch(x, batch_sizes, lengths, order, rows, yb, wb)


def batch_part(batch, lo, hi, per_step):
    """Sorted sequences ``lo:hi`` of a ``PackedBatch`` as a packed batch of their own.

    Its rows are copied, so that a thread working on the part writes and
    reads only its own memory; it runs as one shard (``PackedBatch.whole``).
    Targets and weights follow their sequences (many-to-one) or rows
    (``per_step``).
    """
    rows, batch_sizes = part_rows(batch.batch_sizes, lo, hi)
    if per_step:
        y = None if batch.y is None else batch.y[rows]
        w = None if batch.w is None else batch.w[rows]
    else:
        y = None if batch.y is None else batch.y[lo:hi]
        w = None if batch.w is None else batch.w[lo:hi]
    return PackedBatch(np.take(batch.x, rows, axis=0), batch_sizes, batch.lengths[lo:hi],
                       batch.order[lo:hi], batch.rows[rows], y, w, whole=True)


def batch_plan(n_samples, batch_size, rng=None):
    """List of index arrays covering ``range(n_samples)``, shuffled when ``rng`` is given."""
    idx = rng.permutation(n_samples) if rng is not None else np.arange(n_samples)
    return [idx[i : i + batch_size] for i in range(0, n_samples, batch_size)]


# At most this many sequences in a prediction chunk.
CHUNK_SEQUENCES = 256


def chunk_ranges(lengths, max_rows, max_sequences=CHUNK_SEQUENCES):
    """``(start, stop)`` of consecutive runs of sequences, to predict a bounded amount at a time.

    Sequences are taken in order; a chunk closes once it holds
    ``max_sequences`` sequences or at least ``max_rows`` rows, so only its
    last sequence can take it past ``max_rows``; sequences are never split.
    The walk is a Numba loop: predicting a million short sequences must not
    walk them in Python.  Prediction passes ``chunk_rows`` of its network
    as ``max_rows``.  Python ints, so slicing with them costs no conversions.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    starts = chunk_starts(lengths, max_rows, max_sequences).tolist()
    return list(zip(starts, starts[1:] + [lengths.shape[0]]))


# Prediction chunks hold at most about this many values in each per-row
# array (xproj and the gates, n_gates * hidden a row), and 4,096-16,384 rows.
CHUNK_ROW_VALUES = 1 << 20
CHUNK_ROWS_MIN, CHUNK_ROWS_MAX = 1 << 12, 1 << 14


def chunk_rows(row_width):
    """``max_rows`` of ``chunk_ranges`` for per-row arrays ``row_width`` values wide.

    Two chunks run at once (``_threads.run_chunks``), and their per-row
    arrays should stay in the caches: 16,384 rows put two LSTM-64 chunks'
    ``xproj`` and gates (16 MB each) past the 32 MB L3, and 4,096 rows
    predicted LSTM-128 in 0.78x the time, GRU-512 in 0.74x.  But a fixed
    4,096 rows gave a small model more chunks than work (RNN-4 1.63x the
    time of 16,384 rows).  Bounded by values, A/B in one process against a
    fixed 4,096 rows: RNN-4 0.63x the time, GRU-8 of 300 steps 0.80x,
    LSTM-64 and -128 1.00-1.01x (4,096 rows either way).
    """
    return int(min(max(CHUNK_ROW_VALUES // max(row_width, 1), CHUNK_ROWS_MIN), CHUNK_ROWS_MAX))


def time_chunks(batch, size, per_step, dtype):
    """Split a packed batch into consecutive chunks of at most ``size`` steps.

    Yields ``(ends_here, chunk)``: ``chunk`` is a ``PackedBatch`` over the
    sequences still running at the chunk's first step (a prefix of the sorted
    order, so states carried from the previous chunk line up by position),
    and ``ends_here`` flags those whose last step falls in the chunk. The
    first chunk keeps every sequence, zero-length ones included.
    Many-to-one targets and weights are those of the prefix, with weight 0
    for sequences that go on past the chunk (their loss comes later).
    """
    batch_sizes = batch.batch_sizes
    n_steps = batch_sizes.shape[0]
    starts = step_starts(batch_sizes)
    for t0 in range(0, max(n_steps, 1), size):
        t1 = min(t0 + size, n_steps)
        n_seq = batch.n_sequences if t0 == 0 else int(batch_sizes[t0])
        r0 = int(starts[t0]) if t0 < n_steps else 0
        r1 = int(starts[t1]) if t1 < n_steps else batch.n_rows
        lengths = np.clip(batch.lengths[:n_seq] - t0, 0, t1 - t0)
        ends_here = batch.lengths[:n_seq] <= t1
        if per_step:
            y = None if batch.y is None else batch.y[r0:r1]
            w = None if batch.w is None else batch.w[r0:r1]
        else:
            y = None if batch.y is None else batch.y[:n_seq]
            w = np.ones(n_seq, dtype) if batch.w is None else batch.w[:n_seq]
            w = np.where(ends_here, w, 0).astype(dtype)
        yield ends_here, PackedBatch(
            batch.x[r0:r1], batch_sizes[t0:t1], lengths, batch.order[:n_seq],
            batch.rows[r0:r1], y, w,
        )
