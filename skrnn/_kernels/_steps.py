"""Where each step of a packed batch continues from, and the recurrent products.

Shared by the cell kernels: for step ``t`` of the forward or reverse
direction, which packed rows hold the previous state, and how many of the
step's sequences have one (the live prefix of the batch).  Each kernel call
runs one shard: a range ``lo:hi`` of sorted sequences (docs/internals.md,
"Shards").
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
def hh_forward(h_prev, w_hh_t, b_hh, out):
    """``out = h_prev @ w_hh_t + b_hh`` over one block of live sequences.

    ``w_hh_t`` is ``W_hh.T`` as its own C-contiguous copy (made once per
    kernel call): OpenBLAS ran these 32-row products at ~45-60 GFLOP/s with
    the transposed view and ~105 with the copy (hidden 32-64,
    benchmarks/bench_kernel_profile.py).  The recurrent products of every
    cell go through this pair, so a tuned matmul can replace them in one place.
    """
    if h_prev.shape[0] == 0:  # BLAS rejects empty operands
        return
    np.dot(h_prev, w_hh_t, out)
    for b in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[b, k] += b_hh[k]


@numba.njit(cache=True, nogil=True)
def hh_backward(dpre, w_hh, out):
    """``out = dpre @ w_hh``: the gradient reaching ``h_prev`` through ``W_hh``."""
    if dpre.shape[0] == 0:
        return
    np.dot(dpre, w_hh, out)
