"""Initial states, truncated BPTT (``bptt_steps``) and chunked (streaming) prediction."""

import numpy as np
import pytest
from _gradcheck import numeric_gradient
from sklearn.base import clone

import skrnn._training as training
from skrnn import RNNClassifier, RNNRegressor, RNNSequenceTagger
from skrnn._batching import pack_batch, time_chunks
from skrnn._network import Network
from skrnn._params import Architecture, Layout
from skrnn._sequences import Sequences

LENGTHS = [9, 4, 0, 7, 1, 9]


def _seqs(rng, n_features=2):
    lengths = np.array(LENGTHS)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return Sequences(rng.normal(size=(offsets[-1], n_features)), offsets, n_features)


def _network(cell, per_step, loss="squared", layers=(3, 2), seed=0):
    arch = Architecture(cell, layers, False, False, 2, False, None, 2)
    layout = Layout(arch)
    theta = layout.init_theta(np.random.RandomState(seed), np.float64)
    return Network(layout, loss, per_step), theta


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("per_step", [False, True])
def test_chunked_forward_with_carried_states_equals_whole(cell, per_step):
    rng = np.random.RandomState(0)
    seqs = _seqs(rng)
    network, theta = _network(cell, per_step)
    batch = pack_batch(seqs, np.arange(seqs.n_samples))
    whole, _ = network.forward(theta, batch)
    for size in (1, 2, 4, 8):
        chunked = training._streamed_forward(network, theta, batch, size)
        np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("per_step", [False, True])
def test_gradient_with_nonzero_initial_states(cell, per_step):
    """Finite differences through a chunk that starts from carried (h0, c0)."""
    rng = np.random.RandomState(1)
    seqs = _seqs(rng)
    network, theta = _network(cell, per_step, loss="squared")
    n_rows = seqs.values.shape[0] if per_step else seqs.n_samples
    y, w = rng.normal(size=(n_rows, 2)), rng.uniform(0.5, 2, n_rows)
    batch = pack_batch(seqs, np.arange(seqs.n_samples), y=y, w=w, per_step=per_step)
    init = [[(rng.normal(size=(seqs.n_samples, h)), rng.normal(size=(seqs.n_samples, h)))]
            for h in (3, 2)]
    _, grad, _ = network.chunk_loss_and_grad(theta, batch, 0.2, init, 7.0)
    numeric = numeric_gradient(
        lambda: network.chunk_loss_and_grad(theta, batch, 0.2, init, 7.0)[0], theta
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("per_step", [False, True])
def test_truncation_longer_than_sequences_is_full_bptt(cell, per_step):
    rng = np.random.RandomState(2)
    seqs = _seqs(rng)
    network, theta = _network(cell, per_step, loss="multiclass")
    n_rows = seqs.values.shape[0] if per_step else seqs.n_samples
    y = rng.randint(0, 2, n_rows).astype(np.int64)
    w = rng.uniform(0.5, 2, n_rows)
    batch = pack_batch(seqs, np.arange(seqs.n_samples), y=y, w=w, per_step=per_step)
    full_loss, full_grad = network.loss_and_grad(theta, batch, 0.1)
    garbage = np.full_like(theta, np.nan)  # the buffer's contents are ignored
    loss, grad = training._truncated_loss_and_grad(network, theta, batch, 0.1, 9, garbage)
    assert loss == pytest.approx(full_loss, rel=1e-12)
    np.testing.assert_allclose(grad, full_grad, rtol=1e-10, atol=1e-14)
    # Shorter chunks: same loss (states are carried exactly), truncated gradient.
    loss3, grad3 = training._truncated_loss_and_grad(network, theta, batch, 0.1, 3,
                                                     np.empty_like(theta))
    assert loss3 == pytest.approx(full_loss, rel=1e-12)
    assert not np.allclose(grad3, full_grad)
    chunks = list(time_chunks(batch, 3, per_step, np.float64))
    assert [c.batch_sizes.shape[0] for _, c in chunks] == [3, 3, 3]


def test_estimators_train_with_bptt_steps_and_stream_predictions(monkeypatch):
    rng = np.random.RandomState(3)
    X = [rng.normal(size=(t, 2)) for t in rng.randint(20, 60, size=30)]
    y = np.array([int(x[0, 0] > 0) for x in X])
    clf = RNNClassifier("gru", (6,), bptt_steps=8, max_iter=3, random_state=0).fit(X, y)
    assert len(clf.loss_curve_) == 3 and np.all(np.isfinite(clf.loss_curve_))
    full = clone(clf).set_params(bptt_steps=None).fit(X, y)
    assert not np.allclose(clf.coef_, full.coef_)  # the gradient really is truncated
    same = clone(clf).set_params(bptt_steps=60).fit(X, y)
    np.testing.assert_allclose(same.coef_, full.coef_, rtol=1e-9)
    # Streaming prediction (tiny chunks) equals whole-sequence prediction.
    expected = clf.predict_proba(X)
    monkeypatch.setattr(training, "PREDICT_CHUNK_STEPS", 7)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-12)
    tags = [np.where(x[:, 1] > 0, "p", "n") for x in X]
    tagger = RNNSequenceTagger("lstm", (4,), bptt_steps=10, max_iter=2, random_state=0)
    tagger.fit(X, tags)
    assert [len(p) for p in tagger.predict(X)] == [len(x) for x in X]
    with pytest.raises(ValueError, match="bidirectional"):
        RNNRegressor(bidirectional=True, bptt_steps=5).fit(X, y.astype(float))
