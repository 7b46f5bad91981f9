"""LSTM cell (PyTorch gate order i, f, g, o): forward and BPTT over a packed batch.

``i, f, o = sigmoid``, ``g = tanh``, ``c_t = f c_{t-1} + i g``,
``h_t = o tanh(c_t)``.  Contracts: docs/internals.md.
"""

import numba
import numpy as np

from ._activations import sigmoid, tanh
from ._packing import step_starts
from ._steps import previous_block, step_at


@numba.njit(cache=True, error_model="numpy")
def lstm_forward(xproj, batch_sizes, w_hh, b_hh, reverse, h_all, c_all, gates_all):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh.shape[1]
    starts = step_starts(batch_sizes)
    for s in range(n_steps):
        t = step_at(s, n_steps, reverse)
        r0 = starts[t]
        bs = batch_sizes[t]
        p0, n_prev = previous_block(t, batch_sizes, starts, reverse)
        pre = gates_all[r0 : r0 + bs]
        for b in range(bs):
            for k in range(4 * hidden):
                pre[b, k] = xproj[r0 + b, k] + b_hh[k]
        if n_prev > 0:
            pre[:n_prev] += np.dot(h_all[p0 : p0 + n_prev], w_hh.T)
        for b in range(bs):
            for j in range(hidden):
                i = sigmoid(pre[b, j])
                f = sigmoid(pre[b, hidden + j])
                g = tanh(pre[b, 2 * hidden + j])
                o = sigmoid(pre[b, 3 * hidden + j])
                c = i * g
                if b < n_prev:
                    c += f * c_all[p0 + b, j]
                pre[b, j] = i
                pre[b, hidden + j] = f
                pre[b, 2 * hidden + j] = g
                pre[b, 3 * hidden + j] = o
                c_all[r0 + b, j] = c
                h_all[r0 + b, j] = o * tanh(c)


@numba.njit(cache=True, error_model="numpy")
def lstm_backward(dh_all, batch_sizes, h_all, c_all, gates_all, w_hh, reverse, dxproj):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh.shape[1]
    starts = step_starts(batch_sizes)
    one = h_all.dtype.type(1.0)
    max_batch = batch_sizes[0] if n_steps > 0 else 0
    carry_h = np.zeros((max_batch, hidden), dtype=h_all.dtype)
    carry_c = np.zeros((max_batch, hidden), dtype=h_all.dtype)
    n_carry = 0
    for s in range(n_steps):
        t = step_at(s, n_steps, not reverse)
        r0 = starts[t]
        bs = batch_sizes[t]
        p0, n_prev = previous_block(t, batch_sizes, starts, reverse)
        for b in range(bs):
            for j in range(hidden):
                dh = dh_all[r0 + b, j]
                dc = dh - dh
                if b < n_carry:
                    dh += carry_h[b, j]
                    dc += carry_c[b, j]
                i = gates_all[r0 + b, j]
                f = gates_all[r0 + b, hidden + j]
                g = gates_all[r0 + b, 2 * hidden + j]
                o = gates_all[r0 + b, 3 * hidden + j]
                tc = tanh(c_all[r0 + b, j])
                dc += dh * o * (one - tc * tc)
                c_prev = c_all[p0 + b, j] if b < n_prev else dh - dh
                dxproj[r0 + b, j] = dc * g * i * (one - i)
                dxproj[r0 + b, hidden + j] = dc * c_prev * f * (one - f)
                dxproj[r0 + b, 2 * hidden + j] = dc * i * (one - g * g)
                dxproj[r0 + b, 3 * hidden + j] = dh * tc * o * (one - o)
                # The cell state's own path back in time (read before overwrite:
                # carry_c[b] is only written for b < n_prev <= bs here).
                carry_c[b, j] = dc * f
        if n_prev > 0:
            carry_h[:n_prev] = np.dot(dxproj[r0 : r0 + n_prev], w_hh)
        n_carry = n_prev
