"""LSTM cell (PyTorch gate order i, f, g, o): forward and BPTT over a packed batch.

``i, f, o = sigmoid``, ``g = tanh`` of ``xproj + W_hh h_{t-1} + b_hh``;
``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``.  One call runs one layer in
one direction.  Contracts (shapes, packed layout, ``h0``/``c0``, what the
caller does with ``dxproj``): docs/internals.md, "Recurrent kernels".

The three ``(N, 4H)`` arrays of a layer share one buffer: the forward may
write the gates over ``xproj`` (each step reads its rows of ``xproj`` before
writing its gates there), and the backward turns the gates into ``dxproj``
in place.  An LSTM-128 fit over 32 x 1,000 steps peaked at 267 MB with three
buffers, 136 MB with one.
"""

import numba
import numpy as np

from ._activations import dsigmoid, dtanh, sigmoid, tanh
from ._packing import step_starts
from ._steps import (column_blocks, forward_operand, hh_backward, hh_forward, product_scratch,
                     shard_step, step_at)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def lstm_forward(xproj, batch_sizes, lo, hi, n_blocks, w_hh_t, b_hh, h0, c0, reverse, h_all, c_all,
                 gates_all):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh_t.shape[0]
    starts = step_starts(batch_sizes)
    blocks, bounds = forward_operand(w_hh_t, n_blocks)
    scratch = product_scratch(blocks, bounds, hi - lo)
    # Pre-activations go to a scratch buffer and activations to gates_all:
    # reading and writing one array at four gate offsets kept LLVM from
    # vectorising the gate loop (it cannot prove the offsets never collide).
    # gates_all may be xproj itself: a step's rows of xproj are all read
    # (into pre) before any of its gates is written.
    pre = np.empty((hi - lo, 4 * hidden), dtype=xproj.dtype)
    for s in range(n_steps):
        t = step_at(s, n_steps, reverse)
        r0, bs, p0, n_prev = shard_step(t, batch_sizes, starts, reverse, lo, hi)
        if bs <= 0:
            continue
        # Sequences past n_prev start at this step, from (h0, c0).
        hh_forward(h_all[p0 : p0 + n_prev], blocks, bounds, b_hh, scratch, pre[:n_prev])
        hh_forward(h0[lo + n_prev : lo + bs], blocks, bounds, b_hh, scratch, pre[n_prev:bs])
        for b in range(bs):
            x_row = xproj[r0 + b]
            for k in range(4 * hidden):
                pre[b, k] += x_row[k]
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
            c_prev = c_all[p0 + b] if b < n_prev else c0[lo + b]
            for j in range(hidden):
                c_row[j] += gates[hidden + j] * c_prev[j]
            for j in range(hidden):
                h_row[j] = gates[3 * hidden + j] * tanh(c_row[j])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def lstm_backward(dh_all, batch_sizes, lo, hi, n_blocks, h_all, c_all, gates_all, c0, w_hh_t,
                  reverse):
    """BPTT of one layer and direction; turns ``gates_all`` into ``dxproj`` in place."""
    n_steps = batch_sizes.shape[0]
    hidden = w_hh_t.shape[0]
    starts = step_starts(batch_sizes)
    max_batch = hi - lo
    blocks, bounds = column_blocks(w_hh_t.T, n_blocks)
    scratch = product_scratch(blocks, bounds, max_batch)
    # carry_h[b], carry_c[b] = dL/dh, dL/dc of sorted sequence b flowing back
    # from the step handled just before (the later one in the direction's
    # own time order).
    carry_h = np.zeros((max_batch, hidden), dtype=gates_all.dtype)
    carry_c = np.zeros((max_batch, hidden), dtype=gates_all.dtype)
    dh = np.empty(hidden, dtype=gates_all.dtype)
    dc = np.empty(hidden, dtype=gates_all.dtype)
    n_carry = 0
    for s in range(n_steps):
        t = step_at(s, n_steps, not reverse)
        r0, bs, p0, n_prev = shard_step(t, batch_sizes, starts, reverse, lo, hi)
        if bs <= 0:
            continue
        for b in range(bs):
            # Branches per row, not per unit, so each j loop vectorises.  Each
            # gate's block is its own slice: every loop reads a gate and writes
            # its derivative at the same index, which LLVM vectorises in place.
            # (The two-array kernel given one array for both ran 1.7x the time
            # at hidden 64: the overlap check sent every row to the scalar loop.)
            row = gates_all[r0 + b]
            i_block = row[:hidden]
            f_block = row[hidden : 2 * hidden]
            g_block = row[2 * hidden : 3 * hidden]
            o_block = row[3 * hidden :]
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
                o = o_block[j]
                # tanh(c) is recomputed rather than stored: the layout keeps
                # only the gates (docs/internals.md).
                tc = tanh(c_row[j])
                dc[j] += dh[j] * o * dtanh(tc)
                o_block[j] = dh[j] * tc * dsigmoid(o)
            for j in range(hidden):
                i = i_block[j]
                g = g_block[j]
                i_block[j] = dc[j] * g * dsigmoid(i)
                g_block[j] = dc[j] * i * dtanh(g)
            c_prev = c_all[p0 + b] if b < n_prev else c0[lo + b]
            for j in range(hidden):
                f = f_block[j]
                f_block[j] = dc[j] * c_prev[j] * dsigmoid(f)
                # The cell state's own path back in time (unused past c0:
                # gradients stop at the initial state).
                carry_c[b, j] = dc[j] * f
        # dhproj equals dxproj for the LSTM, so dxproj feeds W_hh directly.
        hh_backward(gates_all[r0 : r0 + n_prev], blocks, bounds, scratch, carry_h[:n_prev])
        n_carry = n_prev
