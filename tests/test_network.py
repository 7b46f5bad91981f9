"""Gradient checks of the whole network (loss_and_grad) by central differences.

Tiny float64 networks on one ragged batch (lengths differ, one sequence has
zero steps), over every cell x depth x direction x head x loss, with L2 and
sample weights; plus token input with and without an embedding.  Each check
runs on whole batches, on batches sharded inside the kernels and on batches
run as parts (docs/internals.md, "Shards" and "Parts").
"""

import itertools

import numpy as np
import pytest
from _gradcheck import numeric_gradient

from skrnn import _batching, _network, _parts
from skrnn._batching import pack_batch
from skrnn._network import Network
from skrnn._params import Architecture, Layout
from skrnn._sequences import Sequences

LENGTHS = [4, 2, 0, 3, 1]


@pytest.fixture(autouse=True, params=["whole", "sharded", "parts"])
def sharding(request, monkeypatch):
    """Every check runs three times: batches as one shard; split as finely as
    possible inside the kernels (one sequence per shard, every GEMM in two row
    blocks on two threads); and run as parts, one sequence each (the last with
    the zero-length one), each part's GEMMs in two row blocks."""
    if request.param != "whole":
        monkeypatch.setattr(_batching, "SHARD_SEQUENCES", 1)
        monkeypatch.setattr(_network, "SPLIT_GEMM_FLOPS", 0)
        monkeypatch.setattr(_network, "_SPLIT_MIN_ROWS", 2)
    if request.param == "sharded":
        monkeypatch.setattr(_parts, "PART_GRADIENT_BYTES", -1)
    return request.param


def _sequences(rng, n_features, tokens=False, vocab=7):
    lengths = np.array(LENGTHS)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    if tokens:
        values = rng.randint(0, vocab, size=offsets[-1]).astype(np.int64)
        n_features = vocab
    else:
        values = rng.normal(size=(offsets[-1], n_features))
    return Sequences(values, offsets, n_features, tokens, np.float64)


def _targets(rng, loss, n_rows, n_outputs):
    if loss == "binary":
        return rng.randint(0, 2, n_rows).astype(np.float64)
    if loss == "multiclass":
        return rng.randint(0, n_outputs, n_rows).astype(np.int64)
    return rng.normal(size=(n_rows, n_outputs))


def _check_gradient(arch, loss, per_step, seqs, rng, alpha=0.3):
    layout = Layout(arch)
    network = Network(layout, loss, per_step)
    theta = layout.init_theta(rng, np.float64)
    n_rows = seqs.values.shape[0] if per_step else seqs.n_samples
    y = _targets(rng, loss, n_rows, arch.n_outputs)
    w = rng.uniform(0.2, 2.0, n_rows)
    batch = pack_batch(seqs, np.arange(seqs.n_samples), y=y, w=w, per_step=per_step)
    _, grad = network.loss_and_grad(theta, batch, alpha)
    numeric = numeric_gradient(lambda: network.loss_and_grad(theta, batch, alpha)[0], theta)
    scale = np.maximum(np.abs(numeric), np.abs(grad)).max()
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7 * max(scale, 1.0))
    assert np.abs(grad).max() > 0


HEADS = [
    ("binary", 1, False), ("multiclass", 3, False), ("squared", 2, False),
    ("binary", 1, True), ("multiclass", 3, True), ("squared", 2, True),
]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("hidden", [(3,), (3, 2)], ids=["1layer", "2layers"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize(
    "loss, n_outputs, per_step", HEADS, ids=[f"{h[0]}-{'m2m' if h[2] else 'm2o'}" for h in HEADS]
)
def test_gradient_dense(cell, hidden, bidirectional, loss, n_outputs, per_step):
    rng = np.random.RandomState(0)
    seqs = _sequences(rng, n_features=2)
    arch = Architecture(cell, hidden, bidirectional, False, 2, False, None, n_outputs)
    _check_gradient(arch, loss, per_step, seqs, rng)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_gradient_one_feature(cell, bidirectional):
    # One input feature: NumPy's matmul would take its slow non-BLAS loop for
    # an inner dimension of 1; the ones column makes it 2 (LSTM, GRU here).
    rng = np.random.RandomState(3)
    seqs = _sequences(rng, n_features=1)
    arch = Architecture(cell, (3, 2), bidirectional, False, 1, False, None, 2)
    _check_gradient(arch, "squared", False, seqs, rng)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_bias_in_the_gemm_or_added_apart_agree(cell, monkeypatch):
    # The input bias rides in the projection GEMM as a column of ones when the
    # input is narrow enough (_bias_rides_in_gemm), and the LSTM's dW_hh joins
    # [dW_ih | db_ih] in one GEMM (_one_weight_gradient_gemm); every way,
    # forward and gradient agree (and each is checked against finite
    # differences above).
    rng = np.random.RandomState(5)
    seqs = _sequences(rng, n_features=2)
    arch = Architecture(cell, (3, 2), True, False, 2, False, None, 2)
    layout = Layout(arch)
    theta = layout.init_theta(rng, np.float64)
    y = _targets(rng, "squared", seqs.n_samples, 2)
    batch = pack_batch(seqs, np.arange(seqs.n_samples), y=y)
    one_gemm = _network._one_weight_gradient_gemm
    results = []
    for rides, joins in ((True, True), (True, False), (False, False)):
        monkeypatch.setattr(_network, "_bias_rides_in_gemm", lambda k, width, rides=rides: rides)
        monkeypatch.setattr(_network, "_one_weight_gradient_gemm",
                            lambda arch, joins=joins: joins and one_gemm(arch))
        network = Network(layout, "squared", False)
        results.append((network.forward(theta, batch)[0],
                        *network.loss_and_grad(theta, batch, 0.1)))
        # The ways really ran: the ones-column copies are workspace arrays,
        # and a joined dW_hh needs no h_prev array of its own (in the
        # workspaces of the batch's parts, when it ran in parts).
        arrays = {key for net in (network, *network._part_networks) for key in net._ws._arrays}
        assert ("0.ones" in arrays) is rides
        assert ("1.ones" in arrays) is rides
        joined = rides and joins and cell == "lstm"
        assert all((f"{layer}.{d}.h_prev" in arrays) is not joined
                   for layer in range(2) for d in range(2))
    for first, *others in zip(*results):
        for other in others:
            np.testing.assert_allclose(first, other, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_gradient_relu_rnn(bidirectional):
    rng = np.random.RandomState(1)
    seqs = _sequences(rng, n_features=2)
    arch = Architecture("rnn", (3, 2), bidirectional, True, 2, False, None, 3)
    _check_gradient(arch, "multiclass", False, seqs, rng)


@pytest.mark.parametrize(
    "cell, embedding_dim, per_step",
    list(itertools.product(["rnn", "lstm", "gru"], [None, 2], [False, True])),
)
def test_gradient_tokens(cell, embedding_dim, per_step):
    rng = np.random.RandomState(2)
    seqs = _sequences(rng, n_features=None, tokens=True)
    arch = Architecture(cell, (3,), True, False, 7, True, embedding_dim, 3)
    _check_gradient(arch, "multiclass", per_step, seqs, rng)


def test_tokens_equal_dense_one_hot():
    """Token input gives exactly what the same one-hot vectors give densely."""
    rng = np.random.RandomState(3)
    tok = _sequences(rng, n_features=None, tokens=True)
    dense = Sequences(np.eye(7)[tok.values], tok.offsets, 7, False, np.float64)
    arch_t = Architecture("gru", (3,), True, False, 7, True, None, 2)
    arch_d = Architecture("gru", (3,), True, False, 7, False, None, 2)
    lt, ld = Layout(arch_t), Layout(arch_d)
    theta_d = ld.init_theta(rng, np.float64)
    pub = ld.views(theta_d)
    theta_t = lt.from_attributes(
        pub["recurrent_weights_"], None, pub["coef_"], pub["intercept_"], np.float64
    )
    y = rng.normal(size=(tok.n_samples, 2))
    bt = pack_batch(tok, np.arange(tok.n_samples), y=y)
    bd = pack_batch(dense, np.arange(tok.n_samples), y=y)
    loss_t, grad_t = Network(lt, "squared", False).loss_and_grad(theta_t, bt, 0.1)
    loss_d, grad_d = Network(ld, "squared", False).loss_and_grad(theta_d, bd, 0.1)
    assert loss_t == pytest.approx(loss_d, rel=1e-12)
    grads_t = lt.views(grad_t)
    grads_d = ld.views(grad_d)
    for a, b in zip(grads_t["recurrent_weights_"][0], grads_d["recurrent_weights_"][0]):
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss, n_outputs", [("binary", 1), ("multiclass", 3), ("squared", 2)])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_loop_head_and_blas_head_agree(loss, n_outputs, bidirectional, monkeypatch):
    # A many-to-one head of at most LOOP_HEAD_WORK multiply-adds runs in
    # Numba loops (final_state_logits), a larger one through BLAS: the same
    # predictions, loss and gradient either way, and the BLAS head passes the
    # gradient check too (the tiny networks above all take the loops).
    rng = np.random.RandomState(6)
    seqs = _sequences(rng, n_features=2)
    arch = Architecture("lstm", (3, 2), bidirectional, False, 2, False, None, n_outputs)
    layout = Layout(arch)
    theta = layout.init_theta(rng, np.float64)
    y = _targets(rng, loss, seqs.n_samples, n_outputs)
    w = rng.uniform(0.2, 2.0, seqs.n_samples)
    batch = pack_batch(seqs, np.arange(seqs.n_samples), y=y, w=w)
    results = []
    for work in (_network.LOOP_HEAD_WORK, -1):
        monkeypatch.setattr(_network, "LOOP_HEAD_WORK", work)
        assert _network._loop_head(seqs.n_samples, arch) is (work > 0)
        network = Network(layout, loss, False)
        x = seqs.values[: LENGTHS[0]]  # the first sequence alone: the shortcut
        results.append((network.forward(theta, batch)[0],
                        network.predict_equal_lengths(layout.unpack(theta), x, 1),
                        *network.loss_and_grad(theta, batch, 0.1)))
    for loops, blas in zip(*results):
        np.testing.assert_allclose(loops, blas, rtol=1e-12, atol=1e-14)
    _check_gradient(arch, loss, False, seqs, rng)  # LOOP_HEAD_WORK is -1 here


def test_zero_length_sequence_predicts_from_intercept():
    rng = np.random.RandomState(4)
    seqs = _sequences(rng, n_features=2)
    arch = Architecture("lstm", (3,), True, False, 2, False, None, 2)
    layout = Layout(arch)
    theta = layout.init_theta(rng, np.float64)
    network = Network(layout, "squared", False)
    batch = pack_batch(seqs, np.arange(seqs.n_samples))
    logits = np.empty((seqs.n_samples, 2))
    logits[batch.order] = network.forward(theta, batch)[0]
    np.testing.assert_array_equal(logits[LENGTHS.index(0)], layout.unpack(theta)["intercept"])


def _stacked_bidirectional_case(rng, cell, per_step, tokens, embedding_dim):
    """A 2-layer bidirectional multiclass network's layout, theta, sequences, y and w."""
    seqs = _sequences(rng, 2, tokens=tokens)
    arch = Architecture(cell, (3, 2), True, False, seqs.n_features, tokens, embedding_dim, 2)
    layout = Layout(arch)
    theta = layout.init_theta(rng, np.float64)
    n_rows = seqs.values.shape[0] if per_step else seqs.n_samples
    y = _targets(rng, "multiclass", n_rows, 2)
    return layout, theta, seqs, y, rng.uniform(0.2, 2.0, n_rows)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("per_step", [False, True], ids=["m2o", "m2m"])
@pytest.mark.parametrize("embedding_dim", [None, 3], ids=["dense", "embedding"])
def test_scratch_reuse_across_batches_of_other_sizes(cell, per_step, embedding_dim):
    # Network keeps its per-row scratch arrays between calls; a smaller batch
    # after a larger one must see nothing of the larger one's leftovers.
    rng = np.random.RandomState(3)
    layout, theta, seqs, y, w = _stacked_bidirectional_case(
        rng, cell, per_step, embedding_dim is not None, embedding_dim)
    big = pack_batch(seqs, np.arange(seqs.n_samples), y=y, w=w, per_step=per_step)
    small = pack_batch(seqs, np.array([3, 1]), y=y, w=w, per_step=per_step)
    reused = Network(layout, "multiclass", per_step)
    reused.loss_and_grad(theta, big, 0.1)
    reused.forward(theta, big)
    loss, grad = reused.loss_and_grad(theta, small, 0.1)
    fresh_loss, fresh_grad = Network(layout, "multiclass", per_step).loss_and_grad(
        theta, small, 0.1)
    assert loss == fresh_loss
    np.testing.assert_array_equal(grad, fresh_grad)
    np.testing.assert_array_equal(reused.forward(theta, small)[0],
                                  Network(layout, "multiclass", per_step).forward(theta, small)[0])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("per_step", [False, True], ids=["m2o", "m2m"])
@pytest.mark.parametrize("tokens, embedding_dim", [(False, None), (True, None), (True, 3)],
                         ids=["dense", "one-hot", "embedding"])
def test_gradient_into_a_buffer_of_garbage_equals_a_fresh_one(cell, per_step, tokens,
                                                               embedding_dim):
    # fit keeps one gradient buffer: every entry must be overwritten, or for
    # the token scatter-adds zeroed first, whatever the buffer held.
    rng = np.random.RandomState(4)
    layout, theta, seqs, y, w = _stacked_bidirectional_case(
        rng, cell, per_step, tokens, embedding_dim)
    batch = pack_batch(seqs, np.arange(seqs.n_samples), y=y, w=w, per_step=per_step)
    network = Network(layout, "multiclass", per_step)
    loss, fresh = network.loss_and_grad(theta, batch, 0.1)
    garbage = np.full_like(theta, np.nan)
    loss_out, grad = network.loss_and_grad(theta, batch, 0.1, out=garbage)
    assert grad is garbage and loss_out == loss
    np.testing.assert_array_equal(grad, fresh)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("per_step", [False, True], ids=["m2o", "m2m"])
@pytest.mark.parametrize("tokens, embedding_dim", [(False, None), (True, None), (True, 3)],
                         ids=["dense", "one-hot", "embedding"])
def test_a_batch_in_parts_equals_the_batch_sharded_in_its_kernels(cell, per_step, tokens,
                                                                   embedding_dim, monkeypatch):
    # Parts (each packed, run and differentiated on its own, gradients summed
    # in part order) against the shards inside the kernels: same loss,
    # gradient and final states, from carried initial states (truncated
    # BPTT's later chunks), with zero-length sequences in the last part.
    monkeypatch.setattr(_batching, "SHARD_SEQUENCES", 8)
    rng = np.random.RandomState(6)
    lengths = rng.randint(0, 9, size=45)
    lengths[:3] = 0
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    vocab = 7
    if tokens:
        seqs = Sequences(rng.randint(0, vocab, offsets[-1]).astype(np.int64), offsets, vocab,
                         True, np.float64)
    else:
        seqs = Sequences(rng.normal(size=(offsets[-1], 2)), offsets, 2, False, np.float64)
    arch = Architecture(cell, (3, 4), True, False, seqs.n_features, tokens, embedding_dim, 2)
    layout = Layout(arch)
    theta = layout.init_theta(rng, np.float64)
    n_rows = offsets[-1] if per_step else lengths.shape[0]
    y, w = _targets(rng, "multiclass", n_rows, 2), rng.uniform(0.2, 2.0, n_rows)
    batch = pack_batch(seqs, rng.permutation(lengths.shape[0]), y=y, w=w, per_step=per_step)
    init = [[(rng.normal(size=(45, hidden)), rng.normal(size=(45, hidden))) for _ in range(2)]
            for hidden in arch.hidden_sizes]
    results = []
    for part_bytes in (16 << 20, -1):
        monkeypatch.setattr(_parts, "PART_GRADIENT_BYTES", part_bytes)
        network = Network(layout, "multiclass", per_step)
        bounds = network._parts(theta, batch)
        n_parts = 1 if bounds is None else bounds.size - 1
        results.append((n_parts, network.chunk_loss_and_grad(theta, batch, 0.1, init)))
    (n_parts, (loss, grad, states)), (one, (loss_1, grad_1, states_1)) = results
    assert n_parts == 5 and one == 1
    assert loss == pytest.approx(loss_1, rel=1e-12)
    np.testing.assert_allclose(grad, grad_1, rtol=1e-10, atol=1e-13)
    for layer, layer_1 in zip(states, states_1):
        for direction, direction_1 in zip(layer, layer_1):
            for state, state_1 in zip(direction, direction_1):
                np.testing.assert_allclose(state, state_1, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("loss, n_outputs", [("binary", 1), ("multiclass", 3), ("squared", 2)])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lstm_parts_in_one_call_equal_the_parts_run_from_python(loss, n_outputs, weighted, dtype,
                                                                monkeypatch):
    # A one-layer LSTM's parts run as one Numba call each (_kernels/_part.py)
    # through the same kernels and GEMMs as chunk_loss_and_grad: the same
    # loss and gradient, bit for bit, on ragged parts whose last holds the
    # zero-length sequences.
    monkeypatch.setattr(_batching, "SHARD_SEQUENCES", 8)
    monkeypatch.setattr(_parts, "PART_GRADIENT_BYTES", 16 << 20)
    rng = np.random.RandomState(11)
    lengths = rng.randint(0, 12, size=30)
    lengths[:3] = 0
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    seqs = Sequences(rng.normal(size=(offsets[-1], 3)).astype(dtype), offsets, 3, False, dtype)
    layout = Layout(Architecture("lstm", (5,), False, False, 3, False, None, n_outputs))
    theta = layout.init_theta(rng, dtype)
    y = _targets(rng, loss, 30, n_outputs)
    y = y if loss == "multiclass" else y.astype(dtype)
    w = rng.uniform(0.2, 2.0, 30).astype(dtype) if weighted else None
    batch = pack_batch(seqs, rng.permutation(30), y=y, w=w)
    calls = []
    in_one_call = Network._part_in_one_call

    def counted(self, *args):
        calls.append(args[2:4])
        return in_one_call(self, *args)

    monkeypatch.setattr(Network, "_part_in_one_call", counted)
    network = Network(layout, loss, False)
    n_parts = network._parts(theta, batch).size - 1
    loss_1, grad_1 = network.loss_and_grad(theta, batch, 0.1)
    assert n_parts >= 3 and len(calls) == n_parts
    monkeypatch.setattr(Network, "_parts_in_one_call", lambda self, *args: False)
    loss_2, grad_2 = Network(layout, loss, False).loss_and_grad(theta, batch, 0.1)
    assert len(calls) == n_parts
    assert loss_1 == loss_2
    np.testing.assert_array_equal(grad_1, grad_2)
    assert np.abs(grad_1).max() > 0


def test_an_lstm_part_in_one_call_compiles_once_per_dtype(monkeypatch):
    # Every loss passes the same argument types (both target arrays, one of
    # them empty): a model compiles the call once, whatever its head.
    from skrnn._kernels._part import lstm_part_loss_and_grad

    monkeypatch.setattr(_batching, "SHARD_SEQUENCES", 4)
    monkeypatch.setattr(_parts, "PART_GRADIENT_BYTES", 16 << 20)
    rng = np.random.RandomState(12)
    for dtype in (np.float64, np.float32):
        seqs = Sequences(rng.normal(size=(40, 2)).astype(dtype), np.arange(0, 41, 5), 2, False,
                         dtype)
        for loss, n_outputs in (("binary", 1), ("multiclass", 3), ("squared", 2)):
            layout = Layout(Architecture("lstm", (3,), False, False, 2, False, None, n_outputs))
            y = _targets(rng, loss, 8, n_outputs)
            y = y if loss == "multiclass" else y.astype(dtype)
            batch = pack_batch(seqs, np.arange(8), y=y)
            Network(layout, loss, False).loss_and_grad(layout.init_theta(rng, dtype), batch, 0.1)
    signatures = lstm_part_loss_and_grad.signatures
    assert 1 <= len(signatures) <= 2
    assert len({sig[0].dtype for sig in signatures}) == len(signatures)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_l2_term_by_halves_equals_it_in_one_call(dtype, monkeypatch):
    # Weight matrices from HALVES_MIN_SIZE take the L2 term in two halves on
    # two threads (add_l2 on each), the others all in one call: the same
    # gradient, elementwise, and the same loss but for the squares' order.
    from skrnn import _threads

    rng = np.random.RandomState(13)
    seqs = _sequences(rng, n_features=2)
    seqs = Sequences(seqs.values.astype(dtype), seqs.offsets, 2, False, dtype)
    layout = Layout(Architecture("gru", (6,), False, False, 2, False, None, 2))
    theta = layout.init_theta(rng, dtype)
    y = _targets(rng, "squared", 5, 2).astype(dtype)
    batch = pack_batch(seqs, np.arange(seqs.n_samples), y=y)
    results = []
    for halves_from in (1 << 19, 16):
        monkeypatch.setattr(_network, "HALVES_MIN_SIZE", halves_from)
        monkeypatch.setattr(_threads, "HALVES_MIN_SIZE", halves_from)
        network = Network(layout, "squared", False)
        results.append(network.loss_and_grad(theta, batch, 0.7))
        plan = network._training_plan()
        # From 16 values W_hh (108) and W_ih (36) go by halves, coef (12) with
        # the one call: both ways in one step.
        assert (len(plan.penalised_split), plan.penalised.shape[0]) == (
            (0, 3) if halves_from > 16 else (2, 1))
    (loss_1, grad_1), (loss_2, grad_2) = results
    np.testing.assert_array_equal(grad_1, grad_2)
    assert loss_1 == pytest.approx(loss_2, rel=1e-12 if dtype == np.float64 else 1e-6)


def test_parts_run_in_one_call_only_where_the_kernel_applies():
    # _kernels/_part.py covers one forward LSTM layer on dense input with a
    # many-to-one head in loops and its input bias in the projection GEMM,
    # from zero initial states; anything else runs part by part from Python.
    def applies(arch=("lstm", (32,), False, False, 8, False, None, 1), per_step=False,
                ends=(0, 16, 32), init=None, final_states=False):
        network = Network(Layout(Architecture(*arch)), "multiclass", per_step)
        return network._parts_in_one_call(list(ends), init, final_states)

    assert applies()
    assert not applies(arch=("gru", (32,), False, False, 8, False, None, 1))
    assert not applies(arch=("rnn", (32,), False, False, 8, False, None, 1))
    assert not applies(arch=("lstm", (32, 32), False, False, 8, False, None, 1))
    assert not applies(arch=("lstm", (32,), True, False, 8, False, None, 1))
    assert not applies(arch=("lstm", (32,), False, False, 50, True, None, 1))
    assert not applies(arch=("lstm", (32,), False, False, 50, True, 8, 1))
    assert not applies(per_step=True)
    assert not applies(init=[[(np.zeros((32, 32)), np.zeros((32, 32)))]])
    assert not applies(final_states=True)
    # Inputs too wide for the ones column of the bias (_bias_rides_in_gemm).
    assert applies(arch=("lstm", (32,), False, False, 63, False, None, 1))
    assert not applies(arch=("lstm", (32,), False, False, 64, False, None, 1))
    # A head past LOOP_HEAD_WORK in its largest part.
    largest = _network.LOOP_HEAD_WORK // (32 * 4)
    assert applies(arch=("lstm", (32,), False, False, 8, False, None, 4), ends=(0, largest, 40))
    assert not applies(arch=("lstm", (32,), False, False, 8, False, None, 4),
                       ends=(0, 5, largest + 6))


def test_a_batch_runs_in_parts_only_while_their_gradients_stay_small(monkeypatch):
    # Each part past the first writes a gradient like theta, but for the
    # token gradients, which every part scatter-adds into the one gradient:
    # a vocabulary-wide weight_ih (tokens, no embedding) does not count.
    rng = np.random.RandomState(7)
    offsets = np.arange(0, 65 * 3, 3, dtype=np.int64)
    seqs = Sequences(rng.randint(0, 50, offsets[-1]).astype(np.int64), offsets, 50, True,
                     np.float64)
    layout = Layout(Architecture("lstm", (8,), False, False, 50, True, None, 1))
    theta = layout.init_theta(rng, np.float64)
    written = theta.nbytes - layout.unpack(theta)["0.0.weight_ih_T"].nbytes
    batch = pack_batch(seqs, np.arange(64), y=rng.randint(0, 2, 64).astype(np.float64))
    network = Network(layout, "binary", False)
    monkeypatch.setattr(_batching, "SHARD_SEQUENCES", 32)
    monkeypatch.setattr(_parts, "PART_GRADIENT_BYTES", written)
    np.testing.assert_array_equal(network._parts(theta, batch), [0, 32, 64])
    monkeypatch.setattr(_parts, "PART_GRADIENT_BYTES", written - 1)
    assert network._parts(theta, batch) is None


@pytest.mark.parametrize("cell, hidden, n_parts, n_kernel_shards", [
    ("lstm", 32, 2, 1), ("lstm", 31, 1, 1), ("gru", 37, 2, 1), ("gru", 36, 1, 1),
    ("gru", 64, 2, 2), ("rnn", 64, 1, 1), ("rnn", 111, 2, 2), ("rnn", 110, 1, 1),
])
def test_a_batch_of_32_runs_in_two_parts_from_less_work_for_gated_cells(
        cell, hidden, n_parts, n_kernel_shards, monkeypatch):
    # A gated cell's parts halve from GATED_PART_HALVE_STEP_WORK (n_gates *
    # hidden**2 of the widest layer), below the kernel shards' bound
    # (HALVE_STEP_WORK), which the simple RNN's parts keep.
    monkeypatch.setattr(_batching, "SHARD_SEQUENCES", 32)
    monkeypatch.setattr(_parts, "PART_GRADIENT_BYTES", 16 << 20)
    rng = np.random.RandomState(8)
    offsets = np.arange(0, 33 * 5, 5, dtype=np.int64)
    seqs = Sequences(rng.normal(size=(offsets[-1], 2)), offsets, 2, False, np.float64)
    layout = Layout(Architecture(cell, (4, hidden), False, False, 2, False, None, 1))
    theta = layout.init_theta(rng, np.float64)
    batch = pack_batch(seqs, np.arange(32), y=rng.randint(0, 2, 32).astype(np.float64))
    bounds = Network(layout, "binary", False)._parts(theta, batch)
    assert (1 if bounds is None else bounds.size - 1) == n_parts
    assert batch.shards(layout.arch.n_gates * hidden**2).size - 1 == n_kernel_shards


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_kept_views_follow_the_array_passed_and_its_updates(cell):
    # Network keeps the views of the last two arrays it unpacked: three
    # parameter vectors in turn, each changed in place between calls, must
    # give what a network that never saw the others gives.
    rng = np.random.RandomState(5)
    layout, _, seqs, y, w = _stacked_bidirectional_case(rng, cell, False, False, None)
    batch = pack_batch(seqs, np.arange(seqs.n_samples), y=y, w=w)
    thetas = [layout.init_theta(rng, np.float64) for _ in range(3)]
    grads = [np.empty_like(thetas[0]) for _ in range(2)]
    network = Network(layout, "multiclass", False)
    for k in range(7):
        theta, grad = thetas[k % 3], grads[k % 2]
        theta *= 0.9  # in place: the kept views must see it
        got = network.loss_and_grad(theta, batch, 0.1, out=grad)
        want = Network(layout, "multiclass", False).loss_and_grad(theta.copy(), batch, 0.1)
        assert got[0] == want[0]
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(network.forward(theta, batch)[0],
                                      Network(layout, "multiclass", False).forward(
                                          theta.copy(), batch)[0])


def test_workspace_reuses_by_key_and_never_hands_out_too_little():
    ws = _network._Workspace()
    first = ws.empty("a", (50, 8), np.float32)
    assert first.shape == (50, 8) and first.dtype == np.float32
    assert ws.empty("a", (50, 8), np.float32) is first  # the same request: the same array
    smaller = ws.empty("a", (10, 8), np.float32)
    assert smaller.shape == (10, 8) and np.shares_memory(smaller, first)
    assert smaller.flags.c_contiguous
    larger = ws.empty("a", (100, 8), np.float32)
    assert larger.shape == (100, 8) and not np.shares_memory(larger, first)
    assert np.shares_memory(ws.empty("a", (7, 3), np.float32), larger)  # a view of the new one
    wider_type = ws.empty("a", (7, 3), np.float64)
    assert wider_type.dtype == np.float64 and not np.shares_memory(wider_type, larger)
    assert not np.shares_memory(ws.empty("b", (50, 8), np.float32), first)  # keys apart
    zeros = ws.zeros("a", (4, 3), np.float64)
    assert not zeros.any()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("tokens", [False, True])
def test_layout_stacks_are_views_of_the_stored_weights(cell, tokens):
    # [W_ih | b_ih].T and [W_hh | W_ih | b_ih].T are the operands the
    # projection and the LSTM's weight-gradient GEMM use in place: they must
    # be views of theta holding exactly the public weights.
    arch = Architecture(cell, (5, 3), True, False, 7, tokens, 4 if tokens else None, 2)
    layout = Layout(arch)
    theta = layout.init_theta(np.random.RandomState(0), np.float64)
    p = layout.unpack(theta)
    public = layout.views(theta)["recurrent_weights_"]
    for layer in range(2):
        for d in range(2):
            key = f"{layer}.{d}."
            w = public[layer][d]
            stacked = np.hstack([w["weight_hh"], w["weight_ih"], w["bias_ih"][:, None]])
            assert np.array_equal(p[key + "hh_ih_bias_T"], stacked.T)
            assert np.array_equal(p[key + "ih_bias_T"], stacked[:, w["weight_hh"].shape[1]:].T)
            for name in ("hh_ih_bias_T", "ih_bias_T", "weight_hh_T", "weight_ih_T"):
                assert np.shares_memory(p[key + name], theta)
                assert p[key + name].flags.c_contiguous
            # The public arrays are views too: in-place edits reach predict.
            assert np.shares_memory(w["weight_hh"], theta)
            assert np.shares_memory(w["weight_ih"], theta)


def test_init_draws_each_array_in_pytorchs_layout_and_order():
    # Storage is transposed; the draws are not: the first recurrent draw is
    # weight_ih as torch shapes it, then weight_hh.
    arch = Architecture("lstm", (6,), False, False, 3, False, None, 1)
    layout = Layout(arch)
    w = layout.views(layout.init_theta(np.random.RandomState(0), np.float64))
    w = w["recurrent_weights_"][0][0]
    rng = np.random.RandomState(0)
    bound = 1 / np.sqrt(6)
    np.testing.assert_array_equal(w["weight_ih"], rng.uniform(-bound, bound, (24, 3)))
    np.testing.assert_array_equal(w["weight_hh"], rng.uniform(-bound, bound, (24, 6)))
