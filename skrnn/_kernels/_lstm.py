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
def lstm_forward(xproj, batch_sizes, w_hh, b_hh, h0, c0, reverse, h_all, c_all, gates_all):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh.shape[1]
    starts = step_starts(batch_sizes)
    # Pre-activations go to a scratch buffer and activations to gates_all:
    # reading and writing one array at four gate offsets kept LLVM from
    # vectorising the gate loop (it cannot prove the offsets never collide).
    pre = np.empty((batch_sizes[0] if n_steps > 0 else 0, 4 * hidden), dtype=xproj.dtype)
    w_hh_t = w_hh.T
    for s in range(n_steps):
        t = step_at(s, n_steps, reverse)
        r0 = starts[t]
        bs = batch_sizes[t]
        p0, n_prev = previous_block(t, batch_sizes, starts, reverse)
        if n_prev > 0:
            np.dot(h_all[p0 : p0 + n_prev], w_hh_t, pre[:n_prev])
        if bs > n_prev:  # sequences starting here continue from (h0, c0)
            np.dot(h0[n_prev:bs], w_hh_t, pre[n_prev:bs])
        for b in range(bs):
            for k in range(4 * hidden):
                pre[b, k] += xproj[r0 + b, k] + b_hh[k]
        for b in range(bs):
            gates = gates_all[r0 + b]
            c_row = c_all[r0 + b]
            h_row = h_all[r0 + b]
            for j in range(hidden):
                i = sigmoid(pre[b, j])
                f = sigmoid(pre[b, hidden + j])
                g = tanh(pre[b, 2 * hidden + j])
                o = sigmoid(pre[b, 3 * hidden + j])
                gates[j] = i
                gates[hidden + j] = f
                gates[2 * hidden + j] = g
                gates[3 * hidden + j] = o
                c_row[j] = i * g
            c_prev = c_all[p0 + b] if b < n_prev else c0[b]
            for j in range(hidden):
                c_row[j] += gates[hidden + j] * c_prev[j]
            for j in range(hidden):
                h_row[j] = gates[3 * hidden + j] * tanh(c_row[j])


@numba.njit(cache=True, error_model="numpy")
def lstm_backward(dh_all, batch_sizes, h_all, c_all, gates_all, c0, w_hh, reverse, dxproj):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh.shape[1]
    starts = step_starts(batch_sizes)
    one = h_all.dtype.type(1.0)
    max_batch = batch_sizes[0] if n_steps > 0 else 0
    carry_h = np.zeros((max_batch, hidden), dtype=h_all.dtype)
    carry_c = np.zeros((max_batch, hidden), dtype=h_all.dtype)
    dh = np.empty(hidden, dtype=h_all.dtype)
    dc = np.empty(hidden, dtype=h_all.dtype)
    n_carry = 0
    for s in range(n_steps):
        t = step_at(s, n_steps, not reverse)
        r0 = starts[t]
        bs = batch_sizes[t]
        p0, n_prev = previous_block(t, batch_sizes, starts, reverse)
        for b in range(bs):
            # Branches per row, not per unit, and separate input/output arrays,
            # so each j loop vectorises.
            gates = gates_all[r0 + b]
            dx = dxproj[r0 + b]
            c_row = c_all[r0 + b]
            dh_row = dh_all[r0 + b]
            if b < n_carry:
                for j in range(hidden):
                    dh[j] = dh_row[j] + carry_h[b, j]
                    dc[j] = carry_c[b, j]
            else:
                for j in range(hidden):
                    dh[j] = dh_row[j]
                    dc[j] = 0
            for j in range(hidden):
                o = gates[3 * hidden + j]
                tc = tanh(c_row[j])
                dc[j] += dh[j] * o * (one - tc * tc)
                dx[3 * hidden + j] = dh[j] * tc * o * (one - o)
            for j in range(hidden):
                i = gates[j]
                g = gates[2 * hidden + j]
                dx[j] = dc[j] * g * i * (one - i)
                dx[2 * hidden + j] = dc[j] * i * (one - g * g)
            c_prev = c_all[p0 + b] if b < n_prev else c0[b]
            for j in range(hidden):
                f = gates[hidden + j]
                dx[hidden + j] = dc[j] * c_prev[j] * f * (one - f)
                # The cell state's own path back in time (unused past c0:
                # gradients stop at the initial state).
                carry_c[b, j] = dc[j] * f
        if n_prev > 0:
            np.dot(dxproj[r0 : r0 + n_prev], w_hh, carry_h[:n_prev])
        n_carry = n_prev
