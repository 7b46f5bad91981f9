"""Recurrent-cell kernels (rnn tanh/relu, lstm, gru) on packed ragged batches, called directly.

- forward: against the sequence-by-sequence NumPy reference of tests/_reference.py,
  both directions, float64 and float32, ragged lengths, zero and given initial states;
- backward: dxproj, and dW_hh / db_hh formed from dhproj as the caller does
  (docs/internals.md), against central finite differences in float64;
- forward: against torch.nn.RNN/LSTM/GRU on torch's own packed sequences;
- float32 stays float32 and each kernel compiles at most two signatures;
- the many-to-one head's loops against NumPy.

The whole network's gradients are checked in test_network.py and test_torch.py.
"""

import re

import numba
import numpy as np
import pytest
from _gradcheck import numeric_gradient
from _reference import pack_sequences, run_sequence, to_packed

from skrnn._kernels import _steps
from skrnn._kernels._gru import gru_backward, gru_forward
from skrnn._kernels._lstm import lstm_backward, lstm_forward
from skrnn._kernels._optim import add_l2
from skrnn._kernels._output import final_state_head_backward, final_state_logits
from skrnn._kernels._packing import previous_states as packed_previous_states
from skrnn._kernels._packing import step_starts
from skrnn._kernels._rnn import rnn_backward, rnn_forward

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
CELLS = [("rnn", False), ("rnn", True), ("lstm", False), ("gru", False)]
CELL_IDS = ["rnn-tanh", "rnn-relu", "lstm", "gru"]
DIRECTIONS = pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
PER_CELL = pytest.mark.parametrize("cell, relu", CELLS, ids=CELL_IDS)
# Unsorted on purpose in the second set, with a sequence of zero steps.
LENGTHS = {"ragged": [5, 3, 3, 1], "unsorted": [2, 0, 4, 1, 4], "single": [6]}
N_FEATURES, HIDDEN = 3, 4


def make_case(cell, lengths, dtype, seed=0, initial_state=False):
    """Weights, sequences and initial states (per input sequence), exact in ``dtype``."""
    rng = np.random.default_rng(seed)
    gh = GATES[cell] * HIDDEN

    def draw(*shape, scale=1.0):
        return (scale * rng.normal(size=shape)).astype(dtype)

    weights = {
        "w_ih": draw(gh, N_FEATURES, scale=0.6), "w_hh": draw(gh, HIDDEN, scale=0.6),
        "b_ih": draw(gh, scale=0.3), "b_hh": draw(gh, scale=0.3),
    }
    seqs = [draw(t, N_FEATURES) for t in lengths]
    scale = 0.5 if initial_state else 0.0
    h0, c0 = draw(len(lengths), HIDDEN, scale=scale), draw(len(lengths), HIDDEN, scale=scale)
    return weights, seqs, h0, c0


def garbage(shape, dtype):
    # Outputs must be fully overwritten: start them as NaN.
    return np.full(shape, np.nan, dtype=dtype)


def whole_batch(batch_sizes):
    """One shard holding every sequence."""
    return [0, int(batch_sizes[0]) if batch_sizes.shape[0] else 0]


def make_shards(kind, batch_sizes):
    """Shard boundaries: one shard, one per sequence, or uneven with an empty shard."""
    n_live = whole_batch(batch_sizes)[1]
    if kind == "one":
        return [0, n_live]
    if kind == "each":
        return list(range(n_live + 1))
    return [0, 0, min(1, n_live), n_live]


SHARDINGS = pytest.mark.parametrize("sharding", ["one", "each", "uneven"])
# Per-step products whole, or in 3 column blocks of uneven widths (1-2 units
# wide at HIDDEN=4); 16 asks for more blocks than columns, which clamps; 0 is
# whole and transposed (the form of products too large for blocks).
BLOCKINGS = pytest.mark.parametrize("blocks", [1, 3, 16, 0],
                                    ids=["whole", "3-blocks", "16-blocks", "transposed"])


def forward(cell, relu, xproj, batch_sizes, w_hh, b_hh, h0, c0, reverse, shards=None, blocks=1):
    """Run a forward kernel, shard by shard, into fresh outputs: ``(h_all, state)``.

    ``blocks``: column blocks of the per-step products (``_steps.column_blocks``).
    ``w_hh`` is in PyTorch's layout; the kernels take it transposed, as stored.
    """
    n_rows, dtype, hidden = xproj.shape[0], xproj.dtype, w_hh.shape[1]
    w_hh_t = np.ascontiguousarray(w_hh.T)
    shards = whole_batch(batch_sizes) if shards is None else shards
    h_all = garbage((n_rows, hidden), dtype)
    gates_all = garbage(xproj.shape, dtype)
    c_all = garbage((n_rows, hidden), dtype)
    hn_all = garbage((n_rows, hidden), dtype)
    for lo, hi in zip(shards[:-1], shards[1:]):
        if cell == "rnn":
            rnn_forward(xproj, batch_sizes, lo, hi, blocks, w_hh_t, b_hh, h0, reverse, relu,
                        h_all)
        elif cell == "lstm":
            lstm_forward(xproj, batch_sizes, lo, hi, blocks, w_hh_t, b_hh, h0, c0, reverse, h_all,
                         c_all, gates_all)
        else:
            gru_forward(xproj, batch_sizes, lo, hi, blocks, w_hh_t, b_hh, h0, reverse, h_all,
                        gates_all, hn_all)
    if cell == "rnn":
        return h_all, {}
    if cell == "lstm":
        return h_all, {"c": c_all, "gates": gates_all}
    return h_all, {"gates": gates_all, "hn": hn_all}


def backward(cell, relu, dh_all, batch_sizes, h_all, state, h0, c0, w_hh, reverse, shards=None,
             blocks=1):
    """Run a backward kernel, shard by shard, into fresh outputs: ``(dxproj, dhproj)``.

    The LSTM's turns its gates into ``dxproj`` in place: it gets a copy, so
    ``state`` serves again.  The GRU's writes only the n block of ``dhproj``
    (``dhn``); its r and z blocks are ``dxproj``'s, joined here as the
    caller's GEMM joins them.
    """
    shards = whole_batch(batch_sizes) if shards is None else shards
    w_hh_t = np.ascontiguousarray(w_hh.T)
    if cell == "lstm":
        dxproj = state["gates"].copy()
    else:
        dxproj = garbage((h_all.shape[0], w_hh.shape[0]), h_all.dtype)
    dhn = garbage(h_all.shape, dxproj.dtype)
    for lo, hi in zip(shards[:-1], shards[1:]):
        if cell == "rnn":
            rnn_backward(dh_all, batch_sizes, lo, hi, blocks, h_all, w_hh_t, reverse, relu,
                         dxproj)
        elif cell == "lstm":
            lstm_backward(dh_all, batch_sizes, lo, hi, blocks, h_all, state["c"], dxproj, c0,
                          w_hh_t, reverse)
        else:
            gru_backward(dh_all, batch_sizes, lo, hi, blocks, h_all, state["gates"], state["hn"],
                         h0, w_hh_t, reverse, dxproj, dhn)
    if cell != "gru":
        return dxproj, dxproj
    hidden = h_all.shape[1]
    return dxproj, np.concatenate([dxproj[:, : 2 * hidden], dhn], axis=1)


def kernel_inputs(weights, seqs, h0, c0):
    """Packed batch, ``xproj`` and the initial states in sorted order, as a caller builds them."""
    batch = pack_sequences(seqs)
    xproj = batch.x @ weights["w_ih"].T + weights["b_ih"]
    return batch, xproj, h0[batch.order].copy(), c0[batch.order].copy()


def reference(cell, relu, weights, seqs, h0, c0, reverse):
    """Per-sequence reference traces, in float64."""
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    return [
        run_sequence(cell, s.astype(np.float64), w["w_ih"], w["w_hh"], w["b_ih"], w["b_hh"],
                     reverse=reverse, relu=relu, h0=h0[i], c0=c0[i], full=True)
        for i, s in enumerate(seqs)
    ]


def previous_states(h_all, batch_sizes, h0_sorted, reverse):
    """The state every row started from: the previous row, or its sequence's ``h0``.

    Written from the layout's definition, one row at a time, to check
    ``_packing.previous_states`` (the caller's version) as well.
    """
    starts = step_starts(batch_sizes)
    n_steps = batch_sizes.shape[0]
    expected = np.empty_like(h_all)
    for t in range(n_steps):
        for b in range(batch_sizes[t]):
            neighbour = t + 1 if reverse else t - 1
            if 0 <= neighbour < n_steps and b < batch_sizes[neighbour]:
                expected[starts[t] + b] = h_all[starts[neighbour] + b]
            else:
                expected[starts[t] + b] = h0_sorted[b]
    fast = np.empty_like(h_all)
    packed_previous_states(h_all, h0_sorted, batch_sizes, reverse, fast)
    np.testing.assert_array_equal(fast, expected)
    return expected


def assert_all_finite(*arrays):
    for a in arrays:
        assert np.all(np.isfinite(a)), "an output element was not written"


# 1. Forward against the reference ----------------------------------------------------


@PER_CELL
@DIRECTIONS
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)],
                         ids=["float64", "float32"])
@pytest.mark.parametrize("lengths", LENGTHS.values(), ids=LENGTHS.keys())
@SHARDINGS
@BLOCKINGS
def test_forward_matches_reference(cell, relu, reverse, dtype, tol, lengths, sharding, blocks):
    weights, seqs, h0, c0 = make_case(cell, lengths, dtype)
    batch, xproj, h0s, c0s = kernel_inputs(weights, seqs, h0, c0)
    h_all, state = forward(cell, relu, xproj, batch.batch_sizes, weights["w_hh"],
                           weights["b_hh"], h0s, c0s, reverse,
                           make_shards(sharding, batch.batch_sizes), blocks)
    assert h_all.dtype == dtype
    assert_all_finite(h_all, *state.values())

    ref = reference(cell, relu, weights, seqs, h0, c0, reverse)
    for key in ("h",) + tuple(state):
        expected = to_packed([r[key] for r in ref], batch)
        np.testing.assert_allclose(
            state.get(key, h_all), expected, rtol=tol, atol=tol, err_msg=key)


@PER_CELL
@DIRECTIONS
def test_forward_continues_from_initial_states(cell, relu, reverse):
    # h0 (and c0) belong to the sorted sequences; in reverse a sequence starts
    # from them at its own last step, which differs from sequence to sequence.
    weights, seqs, h0, c0 = make_case(cell, LENGTHS["unsorted"], np.float64, initial_state=True)
    batch, xproj, h0s, c0s = kernel_inputs(weights, seqs, h0, c0)
    h_all, state = forward(cell, relu, xproj, batch.batch_sizes, weights["w_hh"],
                           weights["b_hh"], h0s, c0s, reverse)
    ref = reference(cell, relu, weights, seqs, h0, c0, reverse)
    np.testing.assert_allclose(h_all, to_packed([r["h"] for r in ref], batch), rtol=1e-12,
                               atol=1e-12)
    if cell == "lstm":
        np.testing.assert_allclose(state["c"], to_packed([r["c"] for r in ref], batch),
                                   rtol=1e-12, atol=1e-12)


@DIRECTIONS
@SHARDINGS
@BLOCKINGS
def test_lstm_forward_writes_its_gates_over_xproj_as_the_network_runs_it(reverse, sharding,
                                                                         blocks):
    # The network passes xproj itself as gates_all, saving an (N, 4H) buffer:
    # each step must read its rows of xproj before writing its gates there.
    weights, seqs, h0, c0 = make_case("lstm", LENGTHS["unsorted"], np.float32, initial_state=True)
    batch, xproj, h0s, c0s = kernel_inputs(weights, seqs, h0, c0)
    shards = make_shards(sharding, batch.batch_sizes)
    h_all, state = forward("lstm", False, xproj, batch.batch_sizes, weights["w_hh"],
                           weights["b_hh"], h0s, c0s, reverse, shards, blocks)
    w_hh_t = np.ascontiguousarray(weights["w_hh"].T)
    shared = xproj.copy()
    h_shared, c_shared = garbage(h_all.shape, h_all.dtype), garbage(h_all.shape, h_all.dtype)
    for lo, hi in zip(shards[:-1], shards[1:]):
        lstm_forward(shared, batch.batch_sizes, lo, hi, blocks, w_hh_t, weights["b_hh"], h0s, c0s,
                     reverse, h_shared, c_shared, shared)
    np.testing.assert_array_equal(h_shared, h_all)
    np.testing.assert_array_equal(c_shared, state["c"])
    np.testing.assert_array_equal(shared, state["gates"])


@PER_CELL
@DIRECTIONS
def test_empty_batch(cell, relu, reverse):
    # Only zero-length sequences: no step, nothing to write, no crash.
    weights, seqs, h0, c0 = make_case(cell, [0, 0], np.float64)
    batch, xproj, h0s, c0s = kernel_inputs(weights, seqs, h0, c0)
    assert batch.batch_sizes.shape == (0,) and xproj.shape == (0, GATES[cell] * HIDDEN)
    h_all, state = forward(cell, relu, xproj, batch.batch_sizes, weights["w_hh"],
                           weights["b_hh"], h0s, c0s, reverse)
    dxproj, dhproj = backward(cell, relu, h_all.copy(), batch.batch_sizes, h_all, state,
                              h0s, c0s, weights["w_hh"], reverse)
    assert h_all.shape == (0, HIDDEN) and dxproj.shape == dhproj.shape == xproj.shape


# 2. Backward against finite differences ----------------------------------------------


def assert_gradient_close(analytic, numeric, name):
    scale = np.abs(numeric).max()
    assert scale > 1e-3, f"{name}: gradient too small to test"
    assert np.abs(analytic - numeric).max() <= 1e-6 * scale, name
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8 * scale, err_msg=name)


@PER_CELL
@DIRECTIONS
@pytest.mark.parametrize("initial_state", [False, True], ids=["zero-init", "given-init"])
@SHARDINGS
@BLOCKINGS
def test_backward_matches_finite_differences(cell, relu, reverse, initial_state, sharding, blocks):
    weights, seqs, h0, c0 = make_case(cell, [4, 2, 0, 4, 1], np.float64, seed=1,
                                      initial_state=initial_state)
    batch, xproj, h0s, c0s = kernel_inputs(weights, seqs, h0, c0)
    bsz, w_hh, b_hh = batch.batch_sizes, weights["w_hh"], weights["b_hh"]
    shards = make_shards(sharding, bsz)
    weight = np.random.default_rng(2).normal(size=(xproj.shape[0], HIDDEN))

    def loss():  # L = sum(G * h_all); the initial states are constants
        h_all, _ = forward(cell, relu, xproj, bsz, w_hh, b_hh, h0s, c0s, reverse, shards, blocks)
        return np.sum(weight * h_all)

    h_all, state = forward(cell, relu, xproj, bsz, w_hh, b_hh, h0s, c0s, reverse, shards, blocks)
    dh_all = weight.copy()
    dxproj, dhproj = backward(cell, relu, dh_all, bsz, h_all, state, h0s, c0s, w_hh, reverse,
                              shards, blocks)
    np.testing.assert_array_equal(dh_all, weight)  # read-only input
    assert_all_finite(dxproj, dhproj)
    if cell != "gru":
        assert dhproj is dxproj
    # The weight gradients as the caller forms them: one GEMM over all rows.
    h_prev = previous_states(h_all, bsz, h0s, reverse)
    dw_hh = dhproj.T @ h_prev
    db_hh = dhproj.sum(axis=0)

    assert_gradient_close(dxproj, numeric_gradient(loss, xproj), "dxproj")
    assert_gradient_close(dw_hh, numeric_gradient(loss, w_hh), "dW_hh")
    assert_gradient_close(db_hh, numeric_gradient(loss, b_hh), "db_hh")


# 3. Forward against PyTorch ------------------------------------------------------------


@pytest.mark.torch
@PER_CELL
def test_forward_matches_torch(cell, relu):
    torch = pytest.importorskip("torch")
    rnn_utils = torch.nn.utils.rnn
    lengths = [3, 5, 1, 3, 2]  # torch packs no zero-length sequence
    fwd, seqs, h0, c0 = make_case(cell, lengths, np.float64, seed=3)
    rev, _, _, _ = make_case(cell, lengths, np.float64, seed=4)

    module_class = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    kwargs = {"nonlinearity": "relu" if relu else "tanh"} if cell == "rnn" else {}
    module = module_class(N_FEATURES, HIDDEN, bidirectional=True, **kwargs).double()
    with torch.no_grad():
        for suffix, w in (("_l0", fwd), ("_l0_reverse", rev)):
            for name, key in (("weight_ih", "w_ih"), ("weight_hh", "w_hh"),
                              ("bias_ih", "b_ih"), ("bias_hh", "b_hh")):
                getattr(module, name + suffix).copy_(torch.from_numpy(w[key]))
        packed = rnn_utils.pack_sequence([torch.from_numpy(s) for s in seqs],
                                         enforce_sorted=False)
        padded, _ = rnn_utils.pad_packed_sequence(module(packed)[0], batch_first=True)
    padded = padded.numpy()  # (B, T_max, 2H), input order

    for reverse, weights, cols in ((False, fwd, slice(0, HIDDEN)),
                                   (True, rev, slice(HIDDEN, 2 * HIDDEN))):
        batch, xproj, h0s, c0s = kernel_inputs(weights, seqs, h0, c0)
        h_all, _ = forward(cell, relu, xproj, batch.batch_sizes, weights["w_hh"],
                           weights["b_hh"], h0s, c0s, reverse)
        expected = to_packed([padded[i, :t, cols] for i, t in enumerate(lengths)], batch)
        np.testing.assert_allclose(h_all, expected, rtol=0, atol=1e-10)


# 3b. Per-step products in column blocks ----------------------------------------------


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)],
                         ids=["float64", "float32"])
@pytest.mark.parametrize("m, k, n, n_blocks", [
    (16, 128, 512, 2), (32, 128, 512, 4), (32, 512, 128, 4), (5, 7, 13, 3), (3, 4, 2, 16),
    (0, 4, 16, 2), (32, 128, 512, 0), (5, 7, 13, 0), (1, 7, 13, 0), (0, 4, 16, 0),
])
def test_blocked_products_equal_whole_products(m, k, n, n_blocks, dtype, tol):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(m, k)).astype(dtype)
    # A transposed view, as the backward kernels pass W_hh (the forward ones
    # pass the stored, C-contiguous W_hh.T: both layouts give the same blocks).
    w = rng.normal(size=(n, k)).astype(dtype).T
    bias = rng.normal(size=n).astype(dtype)
    blocks, bounds = _steps.column_blocks(w, n_blocks)
    assert np.array_equal(_steps.column_blocks(np.ascontiguousarray(w), n_blocks)[0], blocks)
    if n_blocks == 0:  # whole, as w.T
        assert bounds.tolist() == [n] and np.array_equal(blocks, w.T)
    else:
        assert bounds[0] == 0 and bounds[-1] == n and len(bounds) == min(n_blocks, n) + 1
        assert np.all(np.diff(bounds) >= n // min(n_blocks, n))
    scratch = _steps.product_scratch(blocks, bounds, m)
    out = garbage((m, n), dtype)
    _steps.hh_forward(a, blocks, bounds, bias, scratch, out)
    np.testing.assert_allclose(out, a @ w + bias, rtol=tol, atol=tol * k)
    out = garbage((m, n), dtype)
    _steps.hh_backward(a, blocks, bounds, scratch, out)
    np.testing.assert_allclose(out, a @ w, rtol=tol, atol=tol * k)
    assert out.dtype == dtype


@pytest.mark.parametrize("n_blocks", [1, 3, 0])
def test_forward_operand_is_the_stored_weights_when_whole(n_blocks):
    # One block of the stored W_hh.T is that array itself: the forward
    # kernels multiply by it in place, with no per-call copy.
    w_hh_t = np.random.default_rng(0).normal(size=(8, 32)).astype(np.float32)
    blocks, bounds = _steps.forward_operand(w_hh_t, n_blocks)
    expected = _steps.column_blocks(w_hh_t, n_blocks)
    assert np.array_equal(blocks, expected[0]) and np.array_equal(bounds, expected[1])
    assert np.shares_memory(blocks, w_hh_t) == (n_blocks == 1)
    # A strided view is copied, whatever the count.
    view = np.zeros((8, 64), np.float32)[:, ::2]
    view[...] = w_hh_t
    assert not np.shares_memory(_steps.forward_operand(view, 1)[0], view)


@PER_CELL
def test_kernels_in_the_block_counts_training_picks(cell, relu):
    # 16 and 32 sequences at hidden 128 are what a halved and a whole batch of
    # 32 run with (2 and 4 column blocks for the LSTM, see _network): the
    # kernels agree with the whole products to float32 rounding.
    from skrnn._network import recurrent_blocks

    hidden, n_gates = 128, GATES[cell]
    rng = np.random.default_rng(3)
    seqs = [rng.normal(size=(t, N_FEATURES)).astype(np.float32) for t in rng.integers(20, 31, 32)]
    w_hh = (0.1 * rng.normal(size=(n_gates * hidden, hidden))).astype(np.float32)
    b_hh = (0.1 * rng.normal(size=n_gates * hidden)).astype(np.float32)
    w_ih = rng.normal(size=(n_gates * hidden, N_FEATURES)).astype(np.float32)
    batch = pack_sequences(seqs)
    xproj, bsz = batch.x @ w_ih.T, batch.batch_sizes
    h0 = np.zeros((32, hidden), np.float32)
    for shards in ([0, 32], [0, 16, 32]):
        picked = max(recurrent_blocks(shards, k, w_hh) for k in range(len(shards) - 1))
        assert picked > 1 or cell != "lstm"
        results = []
        for blocks in (1, picked):
            h_all, state = forward(cell, relu, xproj, bsz, w_hh, b_hh, h0, h0, False, shards,
                                   blocks)
            results.append((h_all, *backward(cell, relu, np.ones_like(h_all), bsz, h_all, state,
                                             h0, h0, w_hh, False, shards, blocks)))
        for whole, blocked in zip(*results):
            np.testing.assert_allclose(blocked, whole, rtol=1e-4, atol=1e-5)
    assert recurrent_blocks([0, 16], 0, np.empty((512, 128))) == 2
    assert recurrent_blocks([0, 32], 0, np.empty((512, 128))) == 4
    assert recurrent_blocks([0, 32], 0, np.empty((128, 32))) == 1
    assert recurrent_blocks([0, 32], 0, np.empty((2048, 512))) == 0  # more than 16: transposed


# 4. dtypes and compiled signatures ----------------------------------------------------


@PER_CELL
def test_float32_stays_float32(cell, relu):
    # Outputs are the caller's; what the kernel controls is that it computes
    # in float32: its results differ from float64 by float32 rounding only.
    results = {}
    for dtype in (np.float32, np.float64):
        weights, seqs, h0, c0 = make_case(cell, LENGTHS["ragged"], np.float32)
        weights = {k: v.astype(dtype) for k, v in weights.items()}
        batch, xproj, h0s, c0s = kernel_inputs(weights, [s.astype(dtype) for s in seqs],
                                               h0.astype(dtype), c0.astype(dtype))
        h_all, state = forward(cell, relu, xproj, batch.batch_sizes, weights["w_hh"],
                               weights["b_hh"], h0s, c0s, True)
        dxproj, dhproj = backward(cell, relu, np.ones_like(h_all), batch.batch_sizes, h_all,
                                  state, h0s, c0s, weights["w_hh"], True)
        arrays = (xproj, h_all, dxproj, dhproj, *state.values())
        assert {a.dtype for a in arrays} == {np.dtype(dtype)}
        results[dtype] = h_all, dxproj
    for low, high in zip(results[np.float32], results[np.float64]):
        np.testing.assert_allclose(low, high, rtol=1e-4, atol=1e-5)


KERNELS = [
    rnn_forward, rnn_backward, lstm_forward, lstm_backward, gru_forward, gru_backward,
    _steps.hh_forward, _steps.hh_backward,
]


def run_every_kernel(dtype):
    """Every cell, activation and direction, forward and backward, in ``dtype``."""
    for cell, relu in CELLS:
        for reverse in (False, True):
            weights, seqs, h0, c0 = make_case(cell, LENGTHS["unsorted"], dtype)
            batch, xproj, h0s, c0s = kernel_inputs(weights, seqs, h0, c0)
            h_all, state = forward(cell, relu, xproj, batch.batch_sizes, weights["w_hh"],
                                   weights["b_hh"], h0s, c0s, reverse)
            backward(cell, relu, h_all.copy(), batch.batch_sizes, h_all, state, h0s, c0s,
                     weights["w_hh"], reverse)


# A float32 value widened (fpext), double arithmetic, or a call on doubles.
# Not any mention of double: Numba's own reshape compares an unsigned size
# with a signed one, which it types as float64 (uitofp + fcmp), no float math.
FLOAT64_MATH = re.compile(
    r"\bfpext\b|= (fadd|fsub|fmul|fdiv|frem|fneg)( [a-z]+)* double\b|call [^\n]*double @"
    r"|@llvm\.\w+\.f64\b")


def test_float32_code_has_no_float64_arithmetic():
    # A Python float literal in a kernel silently promotes float32 math to
    # float64 (STYLE.md section 3).  Cached code cannot be inspected, so compile
    # an uncached copy of each kernel for its float32 signature.
    run_every_kernel(np.float32)
    for kernel in KERNELS[:6]:
        (sig,) = [s for s in kernel.signatures if s[0].dtype == numba.float32]
        fresh = numba.njit(error_model="numpy")(kernel.py_func)
        fresh.compile(sig)
        ir = fresh.inspect_llvm(sig)
        assert FLOAT64_MATH.search(ir) is None, kernel.__name__
    # The pattern does catch a promotion.
    promoted = numba.njit(lambda x: x * 1.5 + np.exp(x))
    promoted.compile((numba.float32,))
    assert FLOAT64_MATH.search(promoted.inspect_llvm((numba.float32,)))


def test_each_kernel_has_at_most_two_signatures():
    # Runs both dtypes itself, so it also holds when run alone; at the end of
    # a full session it also covers every other caller (the network, ...).
    for dtype in (np.float32, np.float64):
        run_every_kernel(dtype)
    for kernel in KERNELS:
        assert 1 <= len(kernel.signatures) <= 2, (kernel.__name__, kernel.signatures)
        for sig in kernel.signatures:
            floats = {a.dtype for a in sig if isinstance(a, numba.types.Array)
                      and isinstance(a.dtype, numba.types.Float)}
            assert len(floats) == 1, (kernel.__name__, sig)


def test_chunk_ranges_bound_rows_and_sequences_and_cover_everything():
    from skrnn._batching import chunk_ranges

    rng = np.random.RandomState(0)
    lengths = rng.randint(0, 300, size=5000)
    lengths[17] = 100_000  # longer than the budget: alone with what precedes it
    ranges = chunk_ranges(lengths, max_rows=4096, max_sequences=100)
    assert ranges[0][0] == 0 and ranges[-1][1] == 5000
    assert all(stop == start for (_, stop), (start, _) in zip(ranges[:-1], ranges[1:]))
    for start, stop in ranges:
        assert 1 <= stop - start <= 100
        assert lengths[start : stop - 1].sum() < 4096  # only the last may cross the budget
    assert chunk_ranges(np.array([], dtype=np.int64), 4096) == []


def test_prediction_chunks_hold_a_bounded_number_of_values_a_row():
    from skrnn._batching import CHUNK_ROWS_MAX, CHUNK_ROWS_MIN, CHUNK_ROW_VALUES, chunk_rows

    assert chunk_rows(4 * 64) * 4 * 64 == CHUNK_ROW_VALUES  # LSTM-64: 4,096 rows
    assert chunk_rows(3 * 32) == CHUNK_ROW_VALUES // 96  # in between: by the values
    assert chunk_rows(4) == CHUNK_ROWS_MAX  # small models: not more chunks than work
    assert chunk_rows(4 * 512) == CHUNK_ROWS_MIN  # wide ones: still whole shards per chunk


# 5. The many-to-one head's loops ------------------------------------------------------


@pytest.mark.parametrize("n_directions", [1, 2], ids=["uni", "bi"])
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)],
                         ids=["float64", "float32"])
def test_final_state_head_matches_numpy(n_directions, n_outputs, dtype, tol):
    rng = np.random.RandomState(0)
    n, n_rows, hidden = 5, 12, 4
    width = n_directions * hidden
    outs = [rng.normal(size=(n_rows, hidden)).astype(dtype) for _ in range(n_directions)]
    # Final rows per direction; -1: a zero-length sequence, whose features are zeros.
    rows = [np.array([11, 7, -1, 3, 0]), np.array([0, 1, -1, 2, 4])][:n_directions]
    coef = rng.normal(size=(n_outputs, width)).astype(dtype)
    intercept = rng.normal(size=n_outputs).astype(dtype)
    feat = np.full((n, width), np.nan, dtype)  # every entry must be written
    logits = np.full((n, n_outputs), np.nan, dtype)
    final_state_logits(outs[0], rows[0], outs[-1], rows[-1], coef, intercept, feat, logits)
    expected = np.zeros((n, width), dtype)
    for d in range(n_directions):
        live = rows[d] >= 0
        expected[live, d * hidden : (d + 1) * hidden] = outs[d][rows[d][live]]
    np.testing.assert_array_equal(feat, expected)
    np.testing.assert_allclose(logits, expected @ coef.T + intercept, rtol=tol, atol=tol)

    dz = rng.normal(size=(n, n_outputs)).astype(dtype)
    wsum = dtype(2.5)
    scaled = dz / wsum
    g_coef = np.full_like(coef, np.nan)
    g_intercept = np.full_like(intercept, np.nan)
    dh = [np.full((n_rows, hidden), np.nan, dtype) for _ in range(n_directions)]
    final_state_head_backward(dz, wsum, feat, coef, rows[0], rows[-1], g_coef, g_intercept,
                              dh[0], dh[-1])
    np.testing.assert_array_equal(dz, scaled)  # divided in place
    np.testing.assert_allclose(g_coef, scaled.T @ expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(g_intercept, scaled.sum(axis=0), rtol=tol, atol=tol)
    dfeat = scaled @ coef
    for d in range(n_directions):
        live = rows[d] >= 0
        want = np.zeros((n_rows, hidden), dtype)
        want[rows[d][live]] = dfeat[live, d * hidden : (d + 1) * hidden]
        np.testing.assert_allclose(dh[d], want, rtol=tol, atol=tol)
        assert dh[d].dtype == dtype


def test_final_state_head_has_no_float64_arithmetic_in_float32():
    test_final_state_head_matches_numpy(2, 3, np.float32, 1e-5)
    for kernel in (final_state_logits, final_state_head_backward):
        (sig,) = [s for s in kernel.signatures if s[0].dtype == numba.float32]
        fresh = numba.njit(kernel.py_func)
        fresh.compile(sig)
        # Every function of the module but the wrapper that unboxes the
        # arguments (a Python float, read as a double).
        functions = fresh.inspect_llvm(sig).split("\ndefine ")
        kept = [f for f in functions if "@_ZN7cpython" not in f.split("\n", 1)[0]]
        assert len(kept) == len(functions) - 1, kernel.__name__
        assert all(FLOAT64_MATH.search(f) is None for f in kept), kernel.__name__


# 6. The L2 term in one call -------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_l2_adds_the_term_and_sums_the_squares_of_every_range(dtype):
    # Ranges of uneven lengths (an empty one too), in place: the gradient as
    # NumPy makes it (scale in the gradient's dtype, no fused multiply-add),
    # the squares summed in float64; entries between the ranges untouched.
    rng = np.random.RandomState(0)
    theta = rng.normal(size=1000).astype(dtype)
    grad = rng.normal(size=1000).astype(dtype)
    ranges = np.array([[0, 333], [400, 400], [401, 1000]], dtype=np.int64)
    scale = 0.37
    want = grad.copy()
    squares = 0.0
    for a, b in ranges:
        want[a:b] = grad[a:b] + dtype(scale) * theta[a:b]
        squares += float(np.sum(theta[a:b].astype(np.float64) ** 2))
    got = add_l2(theta, grad, ranges, scale)
    np.testing.assert_array_equal(grad, want)
    assert got == pytest.approx(squares, rel=1e-13)
    assert add_l2(theta, grad, np.empty((0, 2), dtype=np.int64), scale) == 0.0
