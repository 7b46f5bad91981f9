"""Elman cell ``h_t = act(xproj_t + W_hh h_{t-1} + b_hh)``: forward and BPTT over a packed batch.

Contracts: docs/internals.md ("Recurrent kernels").
"""

import numba
import numpy as np

from ._activations import tanh
from ._packing import step_starts
from ._steps import previous_block, step_at


@numba.njit(cache=True, error_model="numpy")
def rnn_forward(xproj, batch_sizes, w_hh, b_hh, h0, reverse, relu, h_all):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh.shape[1]
    starts = step_starts(batch_sizes)
    for s in range(n_steps):
        t = step_at(s, n_steps, reverse)
        r0 = starts[t]
        bs = batch_sizes[t]
        p0, n_prev = previous_block(t, batch_sizes, starts, reverse)
        pre = h_all[r0 : r0 + bs]
        for b in range(bs):
            for j in range(hidden):
                pre[b, j] = xproj[r0 + b, j] + b_hh[j]
        if n_prev > 0:
            pre[:n_prev] += np.dot(h_all[p0 : p0 + n_prev], w_hh.T)
        if bs > n_prev:  # sequences starting here continue from h0
            pre[n_prev:bs] += np.dot(h0[n_prev:bs], w_hh.T)
        for b in range(bs):
            for j in range(hidden):
                v = pre[b, j]
                if relu:
                    pre[b, j] = v if v > 0 else v - v
                else:
                    pre[b, j] = tanh(v)


@numba.njit(cache=True, error_model="numpy")
def rnn_backward(dh_all, batch_sizes, h_all, w_hh, reverse, relu, dxproj):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh.shape[1]
    starts = step_starts(batch_sizes)
    one = h_all.dtype.type(1.0)
    max_batch = batch_sizes[0] if n_steps > 0 else 0
    # carry[b] = dL/dh of sorted sequence b flowing back from the step
    # processed just before (the later step in time for the forward direction).
    carry = np.zeros((max_batch, hidden), dtype=h_all.dtype)
    n_carry = 0
    for s in range(n_steps):
        t = step_at(s, n_steps, not reverse)
        r0 = starts[t]
        bs = batch_sizes[t]
        for b in range(bs):
            for j in range(hidden):
                g = dh_all[r0 + b, j]
                if b < n_carry:
                    g += carry[b, j]
                h = h_all[r0 + b, j]
                if relu:
                    dxproj[r0 + b, j] = g if h > 0 else g - g
                else:
                    dxproj[r0 + b, j] = g * (one - h * h)
        p0, n_prev = previous_block(t, batch_sizes, starts, reverse)
        if n_prev > 0:
            carry[:n_prev] = np.dot(dxproj[r0 : r0 + n_prev], w_hh)
        n_carry = n_prev
