"""GRU cell (PyTorch's: gates r, z, n; reset applied to ``W_hn h + b_hn``): forward and BPTT.

``r, z = sigmoid(xproj_{r,z} + W_h{r,z} h_{t-1} + b_h{r,z})``,
``n = tanh(xproj_n + r (W_hn h_{t-1} + b_hn))``, ``h_t = (1 - z) n + z h_{t-1}``.
One call runs one layer in one direction over a packed batch.  Contracts
(shapes, packed layout, ``h0``, ``dxproj`` and ``dhn``): docs/internals.md,
"Recurrent kernels".
"""

import numba
import numpy as np

from ._activations import dsigmoid, dtanh, sigmoid, tanh
from ._packing import step_starts
from ._steps import (column_blocks, forward_operand, hh_backward, hh_forward, product_scratch,
                     shard_step, step_at)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def gru_forward(xproj, batch_sizes, lo, hi, n_blocks, w_hh_t, b_hh, h0, reverse, h_all, gates_all,
                hn_all):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh_t.shape[0]
    starts = step_starts(batch_sizes)
    blocks, bounds = forward_operand(w_hh_t, n_blocks)
    scratch = product_scratch(blocks, bounds, hi - lo)
    one = xproj.dtype.type(1.0)
    # W_hh h_prev + b_hh of the step; unlike the LSTM it cannot be summed
    # with xproj up front, because r scales only its n block.
    hproj = np.empty((hi - lo, 3 * hidden), dtype=xproj.dtype)
    for s in range(n_steps):
        t = step_at(s, n_steps, reverse)
        r0, bs, p0, n_prev = shard_step(t, batch_sizes, starts, reverse, lo, hi)
        if bs <= 0:
            continue
        # Sequences past n_prev start at this step, from h0.
        hh_forward(h_all[p0 : p0 + n_prev], blocks, bounds, b_hh, scratch, hproj[:n_prev])
        hh_forward(h0[lo + n_prev : lo + bs], blocks, bounds, b_hh, scratch, hproj[n_prev:bs])
        for b in range(bs):
            x_row = xproj[r0 + b]
            hp_row = hproj[b]
            gates = gates_all[r0 + b]
            h_prev = h_all[p0 + b] if b < n_prev else h0[lo + b]
            h_row = h_all[r0 + b]
            hn_row = hn_all[r0 + b]
            for j in range(hidden):
                r = sigmoid(x_row[j] + hp_row[j])
                z = sigmoid(x_row[hidden + j] + hp_row[hidden + j])
                hn = hp_row[2 * hidden + j]
                n = tanh(x_row[2 * hidden + j] + r * hn)
                gates[j] = r
                gates[hidden + j] = z
                gates[2 * hidden + j] = n
                hn_row[j] = hn
                h_row[j] = (one - z) * n + z * h_prev[j]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def gru_backward(dh_all, batch_sizes, lo, hi, n_blocks, h_all, gates_all, hn_all, h0, w_hh_t,
                 reverse, dxproj, dhn_all):
    """BPTT of one layer and direction: ``dxproj`` (N, 3H) and ``dhn_all`` (N, H).

    ``dhn_all`` is dL/d(``W_hn h_prev + b_hn``), the n block of the state-side
    gradient (``dn * r``); its r and z blocks equal ``dxproj``'s, so they are
    not stored twice.
    """
    n_steps = batch_sizes.shape[0]
    hidden = w_hh_t.shape[0]
    starts = step_starts(batch_sizes)
    one = dxproj.dtype.type(1.0)
    max_batch = hi - lo
    blocks, bounds = column_blocks(w_hh_t.T, n_blocks)
    scratch = product_scratch(blocks, bounds, max_batch)
    # carry[b] = dL/dh of sorted sequence b flowing back from the step handled
    # just before (the later one in the direction's own time order).
    carry = np.zeros((max_batch, hidden), dtype=dxproj.dtype)
    # The gradient reaching h_prev directly through h = ... + z h_prev; added
    # to carry after the matmul, which overwrites carry.
    direct = np.zeros((max_batch, hidden), dtype=dxproj.dtype)
    # The state-side gradient [dr, dz, dn * r] of the step's rows that continue
    # from an earlier step, the left operand of the product that carries the
    # gradient back; the last row takes the other rows' writes unread.
    dstep = np.empty((max_batch + 1, 3 * hidden), dtype=dxproj.dtype)
    n_carry = 0
    for s in range(n_steps):
        t = step_at(s, n_steps, not reverse)
        r0, bs, p0, n_prev = shard_step(t, batch_sizes, starts, reverse, lo, hi)
        if bs <= 0:
            continue
        for b in range(bs):
            dh_row = dh_all[r0 + b]
            gates = gates_all[r0 + b]
            hn_row = hn_all[r0 + b]
            h_prev = h_all[p0 + b] if b < n_prev else h0[lo + b]
            dx = dxproj[r0 + b]
            dhn_row = dhn_all[r0 + b]
            dhp = dstep[b] if b < n_prev else dstep[max_batch]
            for j in range(hidden):
                dh = dh_row[j]
                if b < n_carry:
                    dh += carry[b, j]
                r = gates[j]
                z = gates[hidden + j]
                n = gates[2 * hidden + j]
                dn = dh * (one - z) * dtanh(n)
                dr = dn * hn_row[j] * dsigmoid(r)
                dz = dh * (h_prev[j] - n) * dsigmoid(z)
                dx[j] = dr
                dx[hidden + j] = dz
                dx[2 * hidden + j] = dn
                dhp[j] = dr
                dhp[hidden + j] = dz
                dhp[2 * hidden + j] = dn * r
                dhn_row[j] = dn * r
                direct[b, j] = dh * z
        hh_backward(dstep[:n_prev], blocks, bounds, scratch, carry[:n_prev])
        for b in range(n_prev):
            for j in range(hidden):
                carry[b, j] += direct[b, j]
        n_carry = n_prev
