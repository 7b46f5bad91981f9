"""Losses of the output layer and their gradients with respect to the logits.

Each kernel takes logits ``z``, targets, per-row weights ``w`` and fills
``dz`` with ``w * dloss/dz``; it returns the weighted loss *sum* (the caller
divides by the weight total).  The formulas stay finite for any finite logit.
"""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, error_model="numpy")
def binary_log_loss(z, y, w, dz):
    """Sigmoid + binary cross-entropy on one logit per row.

    ``z``, ``y``, ``w``, ``dz``: shape (n,); ``y`` in {0, 1}.
    loss = log(1 + exp(z)) - y z, written as max(z, 0) - y z + log1p(exp(-|z|)).
    """
    one = z.dtype.type(1.0)
    total = 0.0
    for i in range(z.shape[0]):
        zi = z[i]
        a = -zi if zi < 0 else zi
        e = np.exp(-a)
        loss = (zi if zi > 0 else zi - zi) - y[i] * zi + np.log1p(e)
        # sigmoid(z) from e = exp(-|z|), exact on both sides without overflow.
        p = one / (one + e) if zi >= 0 else e / (one + e)
        dz[i] = w[i] * (p - y[i])
        total += w[i] * loss
    return total


@numba.njit(cache=True, inline="always")
def _softmax_row(z, i, out):
    """``out[i] = softmax(z[i])`` shifted by the row maximum; returns log-sum-exp of ``z[i]``."""
    k = z.shape[1]
    m = z[i, 0]
    for j in range(1, k):
        if z[i, j] > m:
            m = z[i, j]
    s = z[i, 0] - z[i, 0]
    for j in range(k):
        out[i, j] = np.exp(z[i, j] - m)
        s += out[i, j]
    for j in range(k):
        out[i, j] /= s
    return m + np.log(s)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def softmax_cross_entropy(z, y, w, dz):
    """Softmax + cross-entropy; ``z``, ``dz``: (n, K); ``y``: int64 class index (n,)."""
    total = 0.0
    n, k = z.shape
    for i in range(n):
        log_sum = _softmax_row(z, i, dz)
        total += w[i] * (log_sum - z[i, y[i]])
        for j in range(k):
            dz[i, j] *= w[i]
        dz[i, y[i]] -= w[i]
    return total


@numba.njit(cache=True, nogil=True, error_model="numpy")
def squared_error(z, y, w, dz):
    """Half squared error averaged over outputs (MLPRegressor's loss); (n, O)."""
    total = 0.0
    n, k = z.shape
    scale = z.dtype.type(1.0 / k)
    half = z.dtype.type(0.5)
    for i in range(n):
        acc = z[i, 0] - z[i, 0]
        for j in range(k):
            r = z[i, j] - y[i, j]
            acc += r * r
            dz[i, j] = w[i] * scale * r
        total += w[i] * half * scale * acc
    return total


@numba.njit(cache=True, nogil=True)
def sigmoid(z, out):
    """Numerically stable logistic function, elementwise on a 1-D array."""
    one = z.dtype.type(1.0)
    for i in range(z.shape[0]):
        if z[i] >= 0:
            out[i] = one / (one + np.exp(-z[i]))
        else:
            e = np.exp(z[i])
            out[i] = e / (one + e)


@numba.njit(cache=True, nogil=True)
def softmax(z, out):
    """Row-wise softmax of a 2-D array, shifted by the row maximum."""
    for i in range(z.shape[0]):
        _softmax_row(z, i, out)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def final_state_logits(outs, rows, reverse_outs, reverse_rows, coef, intercept, feat, logits):
    """A many-to-one head: final states ``feat``, ``logits = feat @ coef.T + intercept``.

    ``feat[b]`` is ``outs[rows[b]]``, followed by ``reverse_outs[reverse_rows[b]]``
    when ``feat`` is twice as wide as ``outs`` (a bidirectional last layer;
    otherwise the reverse arguments are not read); zeros where a row is -1
    (a zero-length sequence).
    """
    n, width = feat.shape
    hidden = outs.shape[1]
    n_out = logits.shape[1]
    zero = intercept.dtype.type(0)
    for b in range(n):
        for d in range(width // hidden):
            r = rows[b] if d == 0 else reverse_rows[b]
            src = outs if d == 0 else reverse_outs
            for j in range(hidden):
                feat[b, d * hidden + j] = src[r, j] if r >= 0 else zero
        for o in range(n_out):
            acc = intercept[o]
            for j in range(width):
                acc += feat[b, j] * coef[o, j]
            logits[b, o] = acc


@numba.njit(cache=True, nogil=True, error_model="numpy")
def final_state_head_backward(dz, wsum, feat, coef, rows, reverse_rows, g_coef, g_intercept,
                              dh, reverse_dh):
    """Gradients of ``final_state_logits``'s head, given ``dz`` (weighted dloss/dlogits).

    Divides ``dz`` by ``wsum`` in place (the batch's weight total, in ``dz``'s
    dtype), writes the coefficients' and intercept's gradients and each
    direction's state gradient ``dh`` (zero but at the final rows).
    """
    n, width = feat.shape
    hidden = dh.shape[1]
    n_out = dz.shape[1]
    for b in range(n):
        for o in range(n_out):
            dz[b, o] /= wsum
    g_coef[...] = 0
    g_intercept[...] = 0
    for b in range(n):
        for o in range(n_out):
            d = dz[b, o]
            g_intercept[o] += d
            for j in range(width):
                g_coef[o, j] += d * feat[b, j]
    for d in range(width // hidden):
        out = dh if d == 0 else reverse_dh
        out[...] = 0
        for b in range(n):
            r = rows[b] if d == 0 else reverse_rows[b]
            if r < 0:
                continue
            for o in range(n_out):
                g = dz[b, o]
                for j in range(hidden):
                    out[r, j] += g * coef[o, d * hidden + j]
