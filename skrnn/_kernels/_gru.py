"""GRU cell (PyTorch's: gates r, z, n; reset applied to ``W_hn h + b_hn``): forward and BPTT.

``r, z = sigmoid``, ``n = tanh(xproj_n + r (W_hn h_{t-1} + b_hn))``,
``h_t = (1 - z) n + z h_{t-1}``.  Contracts: docs/internals.md.
"""

import numba
import numpy as np

from ._activations import sigmoid, tanh
from ._packing import step_starts
from ._steps import previous_block, step_at


@numba.njit(cache=True, error_model="numpy")
def gru_forward(xproj, batch_sizes, w_hh, b_hh, h0, reverse, h_all, gates_all, hn_all):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh.shape[1]
    starts = step_starts(batch_sizes)
    one = xproj.dtype.type(1.0)
    hproj = np.empty((batch_sizes[0] if n_steps > 0 else 0, 3 * hidden), dtype=xproj.dtype)
    for s in range(n_steps):
        t = step_at(s, n_steps, reverse)
        r0 = starts[t]
        bs = batch_sizes[t]
        p0, n_prev = previous_block(t, batch_sizes, starts, reverse)
        for b in range(bs):
            for k in range(3 * hidden):
                hproj[b, k] = b_hh[k]
        if n_prev > 0:
            hproj[:n_prev] += np.dot(h_all[p0 : p0 + n_prev], w_hh.T)
        if bs > n_prev:  # sequences starting here continue from h0
            hproj[n_prev:bs] += np.dot(h0[n_prev:bs], w_hh.T)
        for b in range(bs):
            for j in range(hidden):
                r = sigmoid(xproj[r0 + b, j] + hproj[b, j])
                z = sigmoid(xproj[r0 + b, hidden + j] + hproj[b, hidden + j])
                hn = hproj[b, 2 * hidden + j]
                n = tanh(xproj[r0 + b, 2 * hidden + j] + r * hn)
                h_prev = h_all[p0 + b, j] if b < n_prev else h0[b, j]
                gates_all[r0 + b, j] = r
                gates_all[r0 + b, hidden + j] = z
                gates_all[r0 + b, 2 * hidden + j] = n
                hn_all[r0 + b, j] = hn
                h_all[r0 + b, j] = (one - z) * n + z * h_prev


@numba.njit(cache=True, error_model="numpy")
def gru_backward(
    dh_all, batch_sizes, h_all, gates_all, hn_all, h0, w_hh, reverse, dxproj, dhproj
):
    n_steps = batch_sizes.shape[0]
    hidden = w_hh.shape[1]
    starts = step_starts(batch_sizes)
    one = h_all.dtype.type(1.0)
    max_batch = batch_sizes[0] if n_steps > 0 else 0
    carry = np.zeros((max_batch, hidden), dtype=h_all.dtype)
    direct = np.zeros((max_batch, hidden), dtype=h_all.dtype)
    n_carry = 0
    for s in range(n_steps):
        t = step_at(s, n_steps, not reverse)
        r0 = starts[t]
        bs = batch_sizes[t]
        p0, n_prev = previous_block(t, batch_sizes, starts, reverse)
        for b in range(bs):
            for j in range(hidden):
                dh = dh_all[r0 + b, j]
                if b < n_carry:
                    dh += carry[b, j]
                r = gates_all[r0 + b, j]
                z = gates_all[r0 + b, hidden + j]
                n = gates_all[r0 + b, 2 * hidden + j]
                h_prev = h_all[p0 + b, j] if b < n_prev else h0[b, j]
                dn = dh * (one - z) * (one - n * n)
                dr = dn * hn_all[r0 + b, j] * r * (one - r)
                dz = dh * (h_prev - n) * z * (one - z)
                dxproj[r0 + b, j] = dr
                dxproj[r0 + b, hidden + j] = dz
                dxproj[r0 + b, 2 * hidden + j] = dn
                dhproj[r0 + b, j] = dr
                dhproj[r0 + b, hidden + j] = dz
                dhproj[r0 + b, 2 * hidden + j] = dn * r
                direct[b, j] = dh * z
        if n_prev > 0:
            carry[:n_prev] = np.dot(dhproj[r0 : r0 + n_prev], w_hh) + direct[:n_prev]
        n_carry = n_prev
