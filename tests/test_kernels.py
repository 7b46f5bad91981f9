"""Cell kernels against the NumPy reference, dtype behaviour and compile signatures.

Their gradients are checked by finite differences through the whole network
(test_network.py) and against torch autograd (test_torch.py).
"""

from types import SimpleNamespace

import numpy as np
import pytest

from _reference import run_sequence
from skrnn._batching import pack_batch
from skrnn._kernels import _gru, _lstm, _rnn
from skrnn._kernels._packing import pack_rows, previous_rows
from skrnn._network import _layer_backward, _layer_forward

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
LENGTHS = [5, 3, 3, 1, 6]


def _case(cell, dtype, seed=0, n_features=3, hidden=4):
    rng = np.random.RandomState(seed)
    g = GATES[cell]
    w_ih = rng.normal(scale=0.6, size=(g * hidden, n_features)).astype(dtype)
    w_hh = rng.normal(scale=0.6, size=(g * hidden, hidden)).astype(dtype)
    b_ih = rng.normal(scale=0.3, size=g * hidden).astype(dtype)
    b_hh = rng.normal(scale=0.3, size=g * hidden).astype(dtype)
    seqs = [rng.normal(size=(t, n_features)).astype(dtype) for t in LENGTHS]
    offsets = np.concatenate([[0], np.cumsum(LENGTHS)]).astype(np.int64)
    packed = SimpleNamespace(values=np.concatenate(seqs), offsets=offsets)
    batch = pack_batch(packed, np.arange(len(seqs)))
    return seqs, batch, (w_ih, w_hh, b_ih, b_hh)


def _zeros(batch, w_hh):
    shape = (batch.n_sequences, w_hh.shape[1])
    return np.zeros(shape, w_hh.dtype), np.zeros(shape, w_hh.dtype)


@pytest.mark.parametrize("cell, relu", [("rnn", False), ("rnn", True), ("lstm", False), ("gru", False)])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_forward_matches_reference(cell, relu, reverse, dtype, tol):
    seqs, batch, (w_ih, w_hh, b_ih, b_hh) = _case(cell, dtype)
    xproj = batch.x @ w_ih.T + b_ih
    zeros = _zeros(batch, w_hh)
    h, _ = _layer_forward(cell, relu, xproj, batch.batch_sizes, w_hh, b_hh, *zeros, reverse)
    assert h.dtype == dtype
    expected = np.concatenate(
        [run_sequence(cell, s.astype(np.float64), *(w.astype(np.float64) for w in (w_ih, w_hh, b_ih, b_hh)),
                      reverse=reverse, relu=relu) for s in seqs]
    )
    np.testing.assert_allclose(h, expected[batch.rows], rtol=tol, atol=tol)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_backward_keeps_float32(cell):
    seqs, batch, (w_ih, w_hh, b_ih, b_hh) = _case(cell, np.float32)
    xproj = batch.x @ w_ih.T + b_ih
    zeros = _zeros(batch, w_hh)
    h, state = _layer_forward(cell, False, xproj, batch.batch_sizes, w_hh, b_hh, *zeros, False)
    dh = np.ones_like(h)
    dx, dhp = _layer_backward(cell, False, dh, batch.batch_sizes, h, state, *zeros, w_hh, False)
    assert dx.dtype == dhp.dtype == np.float32
    assert np.all(np.isfinite(dx))


def test_packing_indices():
    offsets = np.array([0, 2, 5, 6], dtype=np.int64)  # lengths 2, 3, 1
    order = np.array([1, 0, 2], dtype=np.int64)
    batch_sizes = np.array([3, 2, 1], dtype=np.int64)
    np.testing.assert_array_equal(pack_rows(offsets, order, batch_sizes), [2, 0, 5, 3, 1, 4])
    np.testing.assert_array_equal(previous_rows(batch_sizes, False), [-1, -1, -1, 0, 1, 3])
    np.testing.assert_array_equal(previous_rows(batch_sizes, True), [3, 4, -1, 5, -1, -1])


def test_each_kernel_has_at_most_two_signatures():
    # Both dtypes have run by now in this module (and everywhere in the suite):
    # owned C-contiguous inputs keep each kernel at one signature per dtype.
    for cell in ("rnn", "lstm", "gru"):
        for dtype in (np.float32, np.float64):
            seqs, batch, (w_ih, w_hh, b_ih, b_hh) = _case(cell, dtype)
            xproj = batch.x @ w_ih.T + b_ih
            zeros = _zeros(batch, w_hh)
            h, state = _layer_forward(
                cell, False, xproj, batch.batch_sizes, w_hh, b_hh, *zeros, True)
            _layer_backward(cell, False, h.copy(), batch.batch_sizes, h, state, *zeros, w_hh, True)
    for module, names in ((_rnn, "rnn"), (_lstm, "lstm"), (_gru, "gru")):
        for kernel in (getattr(module, f"{names}_forward"), getattr(module, f"{names}_backward")):
            assert 1 <= len(kernel.signatures) <= 2, (kernel, kernel.signatures)
