"""A training part of a one-layer, one-direction, many-to-one LSTM in one call.

A part of a training batch (``skrnn/_parts.py``) runs on one thread.  Run
from Python it is a dozen calls (its rows' copy, the projection, the
forward kernel, the head and loss, the backward kernel, the previous
states, the weight-gradient GEMMs), with ~50 us of Python between them for a
16-sequence part: on the one GIL that both lanes of a batch need, which made
the helper's lane wait to start.  Here the same steps are one ``nogil``
call, through the same kernels, so a lane holds the GIL only to make it.
docs/internals.md, "A part in one call", says when ``Network`` takes this
path and what it gains; it costs ~5 s more of a cold first fit.

Written for compile time: the kernels' scalar arguments (shard bounds,
``reverse``) are values passed in, never literals, since Numba compiles a
kernel again for each literal argument (the forward and backward kernels
took ~3.5 s more that way); and nothing is reshaped or assigned as a
slice, whose implementations brought ~4 s more (their error messages'
string formatting).
"""

import numba
import numpy as np

from ._lstm import lstm_backward, lstm_forward
from ._output import (binary_log_loss, final_state_head_backward, final_state_logits,
                      softmax_cross_entropy, squared_error)
from ._packing import end_rows, part_rows, previous_states

# ``loss`` codes, in the order of ``_network.LOSSES``.
BINARY, MULTICLASS, SQUARED = 0, 1, 2


@numba.njit(cache=True, nogil=True)
def _part_inputs(x, batch_sizes, lo, hi, inputs, wide):
    """Sorted sequences ``lo:hi``'s rows as ``[x | 1]`` into ``inputs`` and ``wide``; their sizes.

    ``wide``'s first columns are left as they are: ``[h_prev | x | 1]`` is
    for the weight gradients' GEMM, ``inputs`` a contiguous operand for the
    projection's (one of ``wide``'s column blocks is not one: Numba's
    ``np.dot`` takes it, with a performance warning, on the first fit).
    """
    rows, part_sizes = part_rows(batch_sizes, lo, hi)
    n_features = x.shape[1]
    lead = wide.shape[1] - n_features - 1
    one = wide.dtype.type(1)
    for r in range(rows.shape[0]):
        src = x[rows[r]]
        row = inputs[r]
        wide_row = wide[r]
        for k in range(n_features):
            row[k] = src[k]
            wide_row[lead + k] = src[k]
        row[n_features] = one
        wide_row[lead + n_features] = one
    return part_sizes


@numba.njit(cache=True, nogil=True)
def _head_loss(loss, logits, y_float, y_int, w, dz):
    """Weighted loss sum and ``dz`` of ``_network.Network.head_loss``'s kernels.

    ``y_float`` is (n, 1) for the binary loss and (n, n_outputs) for the
    squared error; ``y_int`` the multiclass targets.  The other is not read.
    """
    if loss == BINARY:
        # Columns copied, not reshaped: Numba's reshape brought ~4 s of cold
        # compile (its error messages' string formatting).
        n = logits.shape[0]
        z = np.empty(n, dtype=logits.dtype)
        y = np.empty(n, dtype=y_float.dtype)
        dz_1d = np.empty(n, dtype=dz.dtype)
        for i in range(n):
            z[i] = logits[i, 0]
            y[i] = y_float[i, 0]
        total = binary_log_loss(z, y, w, dz_1d)
        for i in range(n):
            dz[i, 0] = dz_1d[i]
        return total
    if loss == MULTICLASS:
        return softmax_cross_entropy(logits, y_int, w, dz)
    return squared_error(logits, y_float, w, dz)


@numba.njit(cache=True, nogil=True)
def _part_head(h, part_sizes, lengths, loss, y_float, y_int, w, wsum, coef, intercept, g_coef,
               g_intercept, dh):
    """Logits of the part's final states, the loss, the head's gradients and ``dh``; the loss sum.

    The loop head of ``_network.Network._final_state_head`` and
    ``_head_backward`` (one direction), ``dz`` divided by ``wsum``.
    """
    last, first = end_rows(part_sizes, lengths)
    n = lengths.shape[0]
    feat = np.empty((n, h.shape[1]), dtype=h.dtype)
    logits = np.empty((n, coef.shape[0]), dtype=h.dtype)
    final_state_logits(h, last, h, first, coef, intercept, feat, logits)
    dz = np.empty_like(logits)
    total = _head_loss(loss, logits, y_float, y_int, w, dz)
    final_state_head_backward(dz, h.dtype.type(wsum), feat, coef, last, first, g_coef,
                              g_intercept, dh, dh)
    return total


@numba.njit(cache=True, nogil=True, error_model="numpy")
def lstm_part_loss_and_grad(x, batch_sizes, lengths, lo, hi, n_blocks, reverse, loss, y_float,
                            y_int, w, wsum, ih_bias_t, w_hh_t, b_hh, coef, intercept, zeros,
                            inputs, wide, gates, h, c, dh, g_hh_ih_bias_t, g_b_hh, g_coef,
                            g_intercept):
    """Loss sum and gradient of sorted sequences ``lo:hi`` of a packed batch (one LSTM layer).

    ``x``, ``batch_sizes``: the batch's packed rows and batch sizes;
    ``lengths``, ``y_float``/``y_int``, ``w``: the part's own (see
    ``_head_loss``).  ``ih_bias_t`` is ``[W_ih.T; b_ih]``; ``zeros`` the
    initial states (at least ``hi - lo`` rows).  ``inputs`` (``x``'s columns
    and one), ``wide`` (H more), ``gates`` (4H), ``h``, ``c``, ``dh``: scratch
    of the part's rows; ``wide`` becomes ``[h_prev | x | 1]``, so that one
    GEMM gives the three weight gradients (``_network._one_weight_gradient_gemm``).
    Writes ``[dW_hh.T; dW_ih.T; db_ih]`` (``hh_ih_bias_T``), ``db_hh`` and the
    head's gradients, divided by ``wsum``; returns the loss sum, not divided.
    ``reverse`` is False (a value: see the module's note).
    """
    zero = lo - lo
    part_sizes = _part_inputs(x, batch_sizes, lo, hi, inputs, wide)
    n_live = part_sizes[0] if part_sizes.shape[0] else zero
    # The projection writes xproj into gates, which the forward overwrites
    # with the gates and the backward with dxproj (as in _network).
    np.dot(inputs, ih_bias_t, gates)
    lstm_forward(gates, part_sizes, zero, n_live, n_blocks, w_hh_t, b_hh, zeros, zeros, reverse,
                 h, c, gates)
    total = _part_head(h, part_sizes, lengths, loss, y_float, y_int, w, wsum, coef, intercept,
                       g_coef, g_intercept, dh)
    lstm_backward(dh, part_sizes, zero, n_live, n_blocks, h, c, gates, zeros, w_hh_t, reverse)
    previous_states(h, zeros, part_sizes, reverse, wide)
    np.dot(wide.T, gates, g_hh_ih_bias_t)
    # db_hh = db_ih: the LSTM's state-side gradient is dxproj.
    db_ih = g_hh_ih_bias_t[g_hh_ih_bias_t.shape[0] - 1]
    for k in range(g_b_hh.shape[0]):
        g_b_hh[k] = db_ih[k]
    return total
