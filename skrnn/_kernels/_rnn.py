"""Elman cell ``h_t = act(xproj_t + W_hh h_{t-1} + b_hh)``, act = tanh or relu: forward and BPTT.

One call runs one layer in one direction over a packed batch.  Contracts
(argument shapes, the packed layout, ``h0``, what the caller does with
``dxproj``): docs/internals.md, "Recurrent kernels".
"""

import numba
import numpy as np

from ._activations import drelu, dtanh, tanh
from ._activations import relu as relu_act
from ._packing import step_starts
from ._steps import (column_blocks, forward_operand, hh_backward, hh_forward, product_scratch,
                     shard_step, step_at)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def rnn_forward(xproj, batch_sizes, lo, hi, n_blocks, w_hh_t, b_hh, h0, reverse, relu, h_all):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh_t.shape[0]
    starts = step_starts(batch_sizes)
    blocks, bounds = forward_operand(w_hh_t, n_blocks)
    scratch = product_scratch(blocks, bounds, hi - lo)
    for s in range(n_steps):
        t = step_at(s, n_steps, reverse)
        r0, bs, p0, n_prev = shard_step(t, batch_sizes, starts, reverse, lo, hi)
        if bs <= 0:
            continue
        # Pre-activations go straight into this step's rows of h_all: the
        # previous block belongs to another step, so source and target never
        # overlap.  Sequences past n_prev start here, from h0.
        hh_forward(h_all[p0 : p0 + n_prev], blocks, bounds, b_hh, scratch, h_all[r0 : r0 + n_prev])
        hh_forward(h0[lo + n_prev : lo + bs], blocks, bounds, b_hh, scratch,
                   h_all[r0 + n_prev : r0 + bs])
        for b in range(bs):
            h_row = h_all[r0 + b]
            x_row = xproj[r0 + b]
            # Branch per row, not per unit, so the j loops vectorise.
            if relu:
                for j in range(hidden):
                    h_row[j] = relu_act(h_row[j] + x_row[j])
            else:
                for j in range(hidden):
                    h_row[j] = tanh(h_row[j] + x_row[j])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def rnn_backward(dh_all, batch_sizes, lo, hi, n_blocks, h_all, w_hh_t, reverse, relu, dxproj):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh_t.shape[0]
    starts = step_starts(batch_sizes)
    max_batch = hi - lo
    blocks, bounds = column_blocks(w_hh_t.T, n_blocks)
    scratch = product_scratch(blocks, bounds, max_batch)
    # carry[b] = dL/dh of sorted sequence b flowing back from the step handled
    # just before (the later one in the direction's own time order).
    carry = np.zeros((max_batch, hidden), dtype=dxproj.dtype)
    n_carry = 0
    for s in range(n_steps):
        t = step_at(s, n_steps, not reverse)
        r0, bs, _, n_prev = shard_step(t, batch_sizes, starts, reverse, lo, hi)
        if bs <= 0:
            continue
        for b in range(bs):
            dx = dxproj[r0 + b]
            dh_row = dh_all[r0 + b]
            h_row = h_all[r0 + b]
            if b < n_carry:
                for j in range(hidden):
                    dx[j] = dh_row[j] + carry[b, j]
            else:
                for j in range(hidden):
                    dx[j] = dh_row[j]
            if relu:
                for j in range(hidden):
                    dx[j] *= drelu(h_row[j])
            else:
                for j in range(hidden):
                    dx[j] *= dtanh(h_row[j])
        # Sequences that started from h0 pass nothing on: gradients stop there.
        hh_backward(dxproj[r0 : r0 + n_prev], blocks, bounds, scratch, carry[:n_prev])
        n_carry = n_prev
