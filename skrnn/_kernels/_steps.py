"""Where each step of a packed batch continues from, and the recurrent products.

Shared by the cell kernels: for step ``t`` of the forward or reverse
direction, which packed rows hold the previous state, and how many of the
step's sequences have one (the live prefix of the batch).  Each kernel call
runs one shard: a range ``lo:hi`` of sorted sequences (docs/internals.md,
"Shards").  The per-step products multiply by ``W_hh`` cut into column
blocks, each one BLAS call, so that every call stays in OpenBLAS's
small-matrix range (the caller picks the count: ``_network.recurrent_blocks``).
"""

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def step_at(s, n_steps, reverse):
    """The ``s``-th step in processing order."""
    return n_steps - 1 - s if reverse else s


@numba.njit(cache=True, inline="always")
def previous_block(t, batch_sizes, starts, reverse):
    """(first row, count) of the states step ``t`` continues from.

    Forward: step t-1, all of step t's sequences.  Reverse: step t+1, the
    ``batch_sizes[t+1]`` sequences that are that long; the others start
    from the zero state.
    """
    n_steps = batch_sizes.shape[0]
    if not reverse:
        if t == 0:
            return 0, 0
        return starts[t - 1], batch_sizes[t]
    if t + 1 >= n_steps:
        return 0, 0
    return starts[t + 1], batch_sizes[t + 1]


@numba.njit(cache=True, inline="always")
def shard_step(t, batch_sizes, starts, reverse, lo, hi):
    """Rows of step ``t`` that belong to the shard of sorted sequences ``lo:hi``.

    Returns ``(r0, bs, p0, n_prev)``: the shard's rows of step ``t`` are
    ``r0 : r0 + bs`` (``bs <= 0``: none), the first ``n_prev`` of them
    continue from rows ``p0 : p0 + n_prev`` and the rest start from the
    initial state of sequences ``lo + n_prev : lo + bs``.  A shard's
    recurrence never reads another shard's rows, so shards can run in
    parallel.
    """
    r0 = starts[t] + lo
    bs = min(batch_sizes[t], hi) - lo
    p0, n_prev = previous_block(t, batch_sizes, starts, reverse)
    return r0, bs, p0 + lo, min(max(n_prev, lo), hi) - lo


@numba.njit(cache=True, nogil=True)
def column_blocks(w, n_blocks):
    """``(blocks, bounds)``: the per-step products' right operand ``w`` (k, n), laid out for BLAS.

    ``n_blocks >= 1``: the columns of ``w`` as ``n_blocks`` C-contiguous
    blocks.  Block ``p`` holds columns ``bounds[p]:bounds[p + 1]`` (near-equal
    widths; at most one block per column) as ``blocks[p * k : (p + 1) * k]``,
    zero-padded to the widest block so that every block is one contiguous
    array without a reshape.  With one block it is the plain contiguous copy
    the recurrent products need anyway (a transposed view ran at ~45-60
    GFLOP/s, a copy at ~105; hidden 32-64, benchmarks/bench_kernel_profile.py).

    ``n_blocks == 0``: the whole of ``w`` transposed, ``blocks`` being
    ``w.T`` (n, k) C-contiguous and ``bounds`` the one value ``[n]``; the
    product is then computed as ``(w.T @ a.T).T`` (see ``_blocked_product``).
    Each kernel call makes this copy once (none when ``w.T`` is already
    C-contiguous: the backward's ``W_hh.T``, as stored), in tiles: the
    forward's ``W_hh`` at hidden 512 took 3.1 ms element by element, a
    fourteenth of its kernel.
    """
    k, n = w.shape
    if n_blocks == 0:
        bounds = np.empty(1, dtype=np.int64)
        bounds[0] = n
        if w.T.flags.c_contiguous:
            return np.ascontiguousarray(w.T), bounds
        whole = np.empty((n, k), dtype=w.dtype)
        _copy_in_tiles(w.T, whole)
        return whole, bounds
    nb = max(1, min(n_blocks, n))
    bounds = np.empty(nb + 1, dtype=np.int64)
    for p in range(nb + 1):
        bounds[p] = p * n // nb
    width = (n + nb - 1) // nb
    blocks = np.empty((nb * k, width), dtype=w.dtype)
    for p in range(nb):
        c0 = bounds[p]
        c1 = bounds[p + 1]
        _copy_in_tiles(w[:, c0:c1], blocks[p * k : (p + 1) * k, : c1 - c0])
        for r in range(k):  # the padding of a narrower block
            for c in range(c1 - c0, width):
                blocks[p * k + r, c] = 0
    return blocks, bounds


@numba.njit(cache=True, nogil=True)
def forward_operand(w_hh_t, n_blocks):
    """``column_blocks(w_hh_t, n_blocks)`` for the forward products ``h_prev @ W_hh.T``.

    ``w_hh_t`` is ``W_hh.T`` as the parameters store it, C-contiguous: with
    one block it is that block already, so no copy (5 us at hidden 64, 20
    at 128, which a one-sequence predict paid on every call).
    """
    if n_blocks == 1 and w_hh_t.flags.c_contiguous:
        bounds = np.empty(2, dtype=np.int64)
        bounds[0] = 0
        bounds[1] = w_hh_t.shape[1]
        return w_hh_t, bounds
    return column_blocks(w_hh_t, n_blocks)


@numba.njit(cache=True, nogil=True, inline="always")
def _copy_in_tiles(src, dst):
    """``dst[...] = src`` in 8 x 8 tiles, for a ``src`` read across its stride.

    Both callers copy a transposed layout (``W_hh.T`` into column blocks, a
    transposed product back into rows); a tile keeps both sides in cache.
    Full tiles have constant trip counts, which LLVM unrolls into vector
    shuffles: copying ``W_hh.T`` took 13.5 us at hidden 64 and 54 us at 128
    in 16 x 16 tiles of variable extent, 5.2 and 20 us this way (a plain
    double loop: 18.5 us at 64).
    """
    rows, cols = dst.shape
    for r0 in range(0, rows, 8):
        for c0 in range(0, cols, 8):
            if r0 + 8 <= rows and c0 + 8 <= cols:
                for r in range(8):
                    for c in range(8):
                        dst[r0 + r, c0 + c] = src[r0 + r, c0 + c]
            else:  # the ragged edge
                for r in range(r0, min(r0 + 8, rows)):
                    for c in range(c0, min(c0 + 8, cols)):
                        dst[r, c] = src[r, c]


@numba.njit(cache=True, nogil=True)
def product_scratch(blocks, bounds, rows):
    """Scratch for the per-step products of up to ``rows`` rows by ``column_blocks``' operand.

    Allocated once per kernel call: a fresh array per step was ~5 ms of 50
    steps at hidden 512 (256 KB, above glibc's mmap threshold, so every step
    faulted its pages in again).
    """
    if bounds.shape[0] == 1:  # transposed: the (n, rows) product, before it is transposed back
        return np.empty(blocks.shape[0] * rows, dtype=blocks.dtype)
    return np.empty(rows * blocks.shape[1], dtype=blocks.dtype)


@numba.njit(cache=True, nogil=True)
def _blocked_product(a, blocks, bounds, scratch, out):
    """``out = a @ W`` with ``W`` given as ``column_blocks``; one BLAS call per block.

    Forward and backward products share this one function and its
    ``np.dot`` call sites: each instance costs ~1 s of a cold first fit.
    """
    m, k = a.shape
    nb = bounds.shape[0] - 1
    if nb == 0:
        # Transposed, (W.T @ a.T).T: OpenBLAS packs the big operand on every
        # call of a product too large for its small-matrix kernels, and packs
        # it faster as the left one.  Two threads, 32 rows x 50 steps at
        # hidden 512 (LSTM): forward products 60 -> 46 ms, backward 60 -> 49.
        n = blocks.shape[0]
        part_t = scratch[: n * m].reshape((n, m))
        np.dot(blocks, a.T, part_t)
        _copy_in_tiles(part_t.T, out)
        return
    width = blocks.shape[1]
    part = scratch[: m * width].reshape((m, width))
    for p in range(nb):
        dest = out if nb == 1 else part
        np.dot(a, blocks[p * k : (p + 1) * k], dest)
        if nb > 1:
            c0 = bounds[p]
            for b in range(m):
                for c in range(bounds[p + 1] - c0):
                    out[b, c0 + c] = part[b, c]


@numba.njit(cache=True, nogil=True)
def hh_forward(h_prev, blocks, bounds, b_hh, scratch, out):
    """``out = h_prev @ W_hh.T + b_hh`` over one block of live sequences.

    ``blocks, bounds`` are ``column_blocks(W_hh.T, n)``; ``scratch`` is
    ``product_scratch`` for at least as many rows.  The recurrent products of every cell
    go through this pair, so a tuned matmul can replace them in one place.
    """
    if h_prev.shape[0] == 0:  # BLAS rejects empty operands
        return
    _blocked_product(h_prev, blocks, bounds, scratch, out)
    for b in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[b, k] += b_hh[k]


@numba.njit(cache=True, nogil=True)
def hh_backward(dpre, blocks, bounds, scratch, out):
    """``out = dpre @ W_hh``, the gradient reaching ``h_prev``.

    ``blocks, bounds`` are ``column_blocks(W_hh, n)``.
    """
    if dpre.shape[0] == 0:
        return
    _blocked_product(dpre, blocks, bounds, scratch, out)
