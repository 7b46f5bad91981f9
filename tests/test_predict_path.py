"""The prediction path: cached unpacked weights, equal-length packing, small-input shortcuts.

Predicting one sequence keeps the unpacked weights on the estimator and
packs tables and 3-D arrays without sorting; these tests pin that the
shortcuts never change a prediction and that the cache follows the weights.
"""

import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.base import clone

from skrnn import RNNClassifier, RNNRegressor, RNNSequenceTagger
from skrnn._batching import (HALVE_STEP_WORK, SHARD_SEQUENCES, batch_part, pack_batch,
                             shard_bounds)
from skrnn._network import Network
from skrnn._params import Architecture, Layout
from skrnn._sequences import Sequences, validate_sequences
from skrnn._training import PREDICT_CHUNK_STEPS, _equal_and_few, predict_outputs

TINY = dict(hidden_layer_sizes=(5,), max_iter=2, random_state=0)


@pytest.fixture(scope="module")
def cube():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 6, 3)).astype(np.float32)
    return X, (X[:, 0, 0] > 0).astype(int)


def _fitted(X, y, **params):
    return RNNClassifier(**{**TINY, **params}).fit(X, y)


def test_refit_partial_fit_and_warm_start_replace_the_cached_weights(cube):
    X, y = cube
    clf = _fitted(X, y)
    clf.set_params(random_state=1).fit(X[::-1], y[::-1])
    fresh = _fitted(X[::-1], y[::-1], random_state=1)
    np.testing.assert_array_equal(clf.predict_proba(X), fresh.predict_proba(X))

    clf.partial_fit(X, y)
    fresh.partial_fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), fresh.predict_proba(X))

    clf.set_params(warm_start=True, max_iter=1)
    fresh.set_params(warm_start=True, max_iter=1)
    with pytest.warns(Warning):
        clf.fit(X, y)
    with pytest.warns(Warning):
        fresh.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), fresh.predict_proba(X))


def test_replaced_and_edited_weights_reach_predict(cube):
    X, y = cube
    clf = _fitted(X, y)
    before = clf.predict_proba(X)
    reference = pickle.loads(pickle.dumps(clf))  # rebuilt from the attributes

    w_hh = clf.recurrent_weights_[0][0]["weight_hh"]
    clf.recurrent_weights_[0][0]["weight_hh"] = w_hh * 0.5  # a new array
    reference.recurrent_weights_[0][0]["weight_hh"][...] *= 0.5  # in place
    changed = clf.predict_proba(X)
    assert not np.array_equal(changed, before)
    np.testing.assert_array_equal(changed, reference.predict_proba(X))
    np.testing.assert_array_equal(clf.predict_proba(X), changed)  # and again

    clf.recurrent_weights_[0][0]["weight_hh"] = w_hh
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    clf.coef_[...] = 0.0  # in place, through the cached views
    clf.intercept_[...] = 0.0
    np.testing.assert_array_equal(clf.predict_proba(X), np.full((40, 2), 0.5, np.float32))


def test_cache_is_not_pickled_and_round_trips_predict_identically(cube):
    X, y = cube
    clf = _fitted(X, y)
    expected = clf.predict_proba(X)
    assert "_theta_params" not in clf.__getstate__()
    loaded = pickle.loads(pickle.dumps(clf))
    # Rebuilt on loading, as views of the loaded weights.
    assert np.shares_memory(loaded._theta_params["coef"], loaded.coef_)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    np.testing.assert_array_equal(loaded.predict_proba(X[:1]), expected[:1])
    assert not hasattr(clone(clf), "_theta_params")


def test_threads_predicting_at_once_get_the_same_answers(cube):
    X, y = cube
    clf = _fitted(X, y, hidden_layer_sizes=(8,))
    expected = [clf.predict_proba(X[i : i + 1]) for i in range(len(X))]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda i: clf.predict_proba(X[i : i + 1]), range(len(X))))
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_equal_length_input_predicts_as_a_ragged_list(cube, cell, bidirectional):
    # A 3-D array takes the unsorted packing; a list of its sequences the
    # sorting one (same lengths, so the same layout): the bits must agree.
    X, y = cube
    clf = _fitted(X, y, cell=cell, bidirectional=bidirectional)
    ragged = [x for x in X]
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(ragged))
    np.testing.assert_array_equal(clf.predict_proba(X[3:4]), clf.predict_proba(ragged[3:4]))
    tagger = RNNSequenceTagger(cell, bidirectional=bidirectional, **TINY).fit(
        X, [(x[:, 0] > 0).astype(int) for x in X]
    )
    for a, b in zip(tagger.predict_proba(X), tagger.predict_proba(ragged)):
        np.testing.assert_array_equal(a, b)


def test_one_sequence_equals_its_row_of_a_batch(cube):
    X, y = cube
    reg = RNNRegressor(**TINY).fit(X, y.astype(float))
    full = reg.predict(X)
    for i in (0, 17, 39):
        np.testing.assert_array_equal(reg.predict(X[i : i + 1]), full[i : i + 1])


def _reference_layout(offsets, idx):
    """The packed layout by its definition, with NumPy's stable sort."""
    lengths = offsets[idx + 1] - offsets[idx]
    order = np.argsort(-lengths, kind="stable")
    lengths = lengths[order]
    n_steps = int(lengths[0]) if lengths.shape[0] else 0
    batch_sizes = np.array([np.count_nonzero(lengths > t) for t in range(n_steps)],
                           dtype=np.int64)
    rows = np.array([offsets[idx[order[b]]] + t for t in range(n_steps)
                     for b in range(batch_sizes[t])], dtype=np.int64)
    return order, lengths, batch_sizes, rows


def _check_layout(seqs, idx):
    got = pack_batch(seqs, idx)
    want = _reference_layout(seqs.offsets, idx)
    for name, expected in zip(("order", "lengths", "batch_sizes", "rows"), want):
        a = getattr(got, name)
        assert a.dtype == np.int64 and a.shape == expected.shape, name
        np.testing.assert_array_equal(a, expected, err_msg=name)
    np.testing.assert_array_equal(got.x, seqs.values[want[3]])
    for step_work in (0, HALVE_STEP_WORK):
        np.testing.assert_array_equal(got.shards(step_work), shard_bounds(want[1], step_work))


@pytest.mark.parametrize("shape", [(7, 5, 3), (1, 9, 2), (4, 0, 2), (6, 4)])
def test_equal_lengths_pack_as_the_layout_defines(shape):
    # Equal lengths: the order is the requested one, for prediction's ranges
    # and for training's shuffled index lists alike.
    rng = np.random.RandomState(0)
    X = rng.normal(size=shape)

    class Est:
        pass

    seqs = validate_sequences(Est(), X, reset=True) if shape[1] else Sequences(
        np.zeros((0, shape[2])), np.zeros(shape[0] + 1, dtype=np.int64), shape[2],
    )
    assert seqs.uniform_length == shape[1]
    n = shape[0]
    for idx in (np.arange(n), np.arange(1, n), np.arange(n - 1, n), rng.permutation(n),
                np.arange(0)):
        _check_layout(seqs, idx)
        if shape[1]:
            np.testing.assert_array_equal(pack_batch(seqs, idx).order, np.arange(idx.shape[0]))


@pytest.mark.parametrize("seed", range(6))
def test_ragged_lengths_pack_longest_first_keeping_ties_in_order(seed):
    # Ties (many at these lengths) keep the order of the index list; zero
    # lengths go last; repeated indices pack each copy.
    rng = np.random.RandomState(seed)
    lengths = rng.randint(0, [2, 4, 9, 40, 3, 60][seed], size=rng.randint(1, 50))
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    seqs = Sequences(rng.normal(size=(offsets[-1], 2)), offsets, 2)
    n = lengths.shape[0]
    for idx in (np.arange(n), rng.permutation(n), rng.randint(0, n, size=2 * n),
                np.arange(0)):
        _check_layout(seqs, idx)


@pytest.mark.parametrize("per_step", [False, True], ids=["m2o", "m2m"])
@pytest.mark.parametrize("seed", range(4))
def test_a_batch_part_is_its_sequences_packed_on_their_own(seed, per_step):
    # Sorted sequences lo:hi of a batch, as a part: their rows, targets and
    # weights as packing those sequences alone lays them out, one shard.
    rng = np.random.RandomState(seed)
    lengths = rng.randint(0, [3, 9, 40, 60][seed], size=rng.randint(2, 50))
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    seqs = Sequences(rng.normal(size=(offsets[-1], 2)), offsets, 2)
    n = lengths.shape[0]
    n_targets = offsets[-1] if per_step else n
    y, w = rng.normal(size=n_targets), rng.uniform(size=n_targets)
    idx = rng.permutation(n)
    batch = pack_batch(seqs, idx, y=y, w=w, per_step=per_step)
    cuts = sorted({0, n, *rng.randint(0, n + 1, size=3).tolist()})
    for lo, hi in zip(cuts, cuts[1:]):
        part = batch_part(batch, lo, hi, per_step)
        alone = pack_batch(seqs, idx[batch.order[lo:hi]], y=y, w=w, per_step=per_step)
        for name in ("x", "batch_sizes", "lengths", "rows", "y", "w"):
            np.testing.assert_array_equal(getattr(part, name), getattr(alone, name),
                                          err_msg=name)
        assert part.batch_sizes.dtype == np.int64
        np.testing.assert_array_equal(part.order, batch.order[lo:hi])
        assert part.whole
        assert part.shards(HALVE_STEP_WORK).tolist() == [0, np.count_nonzero(part.lengths)]


def test_a_batch_part_runs_as_one_shard_however_many_sequences_it_holds():
    # A part already has a thread of its own: 100 sequences that a batch would
    # cut into three shards stay one, over the live sequences only.
    lengths = np.array([5] * 100 + [0, 0])
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    seqs = Sequences(np.zeros((offsets[-1], 1)), offsets, 1)
    batch = pack_batch(seqs, np.arange(102))
    assert batch.shards(HALVE_STEP_WORK).size - 1 == 3
    part = batch_part(batch, 0, 102, False)
    for step_work in (0, HALVE_STEP_WORK, 10 * HALVE_STEP_WORK):
        assert part.shards(step_work).tolist() == [0, 100]


def test_uniform_length_of_ragged_sequences():
    def seqs(lengths):
        offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        return Sequences(np.zeros((offsets[-1], 1)), offsets, 1)

    assert seqs([3, 3, 3]).uniform_length == 3
    assert seqs([3, 2, 3]).uniform_length is None
    assert seqs([0, 0]).uniform_length == 0
    assert seqs([]).uniform_length is None


@pytest.mark.parametrize("n", [2, 3000])  # the direct test and the summed one
def test_nan_is_found_in_small_and_large_inputs(cube, n):
    X, y = cube
    clf = _fitted(X, y)
    big = np.zeros((n, 6, 3), dtype=np.float32)
    big[n - 1, 5, 2] = np.nan
    with pytest.raises(ValueError, match=f"NaN \\(sequence {n - 1}, step 5\\)"):
        clf.predict(big)
    big[n - 1, 5, 2] = np.finfo(np.float32).max  # finite, though the sum overflows
    big[0, 0, 0] = np.finfo(np.float32).max
    clf.predict(big)


def _equal_length_case(cell, bidirectional, kind, per_step, n, length, rng):
    """A two-layer network with random weights and ``n`` sequences of ``length`` steps."""
    tokens = kind != "dense"
    n_inputs = 11 if tokens else 3
    arch = Architecture(cell, (6, 4), bidirectional, False, n_inputs, tokens,
                        5 if kind == "embedding" else None, 3)
    layout = Layout(arch)
    network = Network(layout, "multiclass", per_step)
    theta = layout.init_theta(rng, np.float32)
    offsets = np.arange(n + 1, dtype=np.int64) * length
    if tokens:
        seqs = Sequences(rng.randint(0, n_inputs, n * length), offsets, n_inputs, True,
                         np.float32)
    else:
        seqs = Sequences(rng.normal(size=(n * length, 3)).astype(np.float32), offsets, 3)
    return network, theta, seqs


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", ["dense", "tokens", "embedding"])
@pytest.mark.parametrize("per_step", [False, True])
def test_equal_length_shortcut_computes_what_the_general_path_does(
        cell, bidirectional, kind, per_step, monkeypatch):
    # predict_outputs runs few equal-length sequences through
    # Network.predict_equal_lengths; given the sequences as an index list it
    # takes the general path (packing, chunks, final rows).  Same bits, in
    # the same order.
    taken = []
    original = Network.predict_equal_lengths
    monkeypatch.setattr(Network, "predict_equal_lengths",
                        lambda self, *args: taken.append(1) or original(self, *args))
    rng = np.random.RandomState(0)
    for n in (1, 4, SHARD_SEQUENCES - 1):
        network, theta, seqs = _equal_length_case(cell, bidirectional, kind, per_step, n, 7, rng)
        taken.clear()
        short = predict_outputs(network, theta, seqs)
        assert taken, "the shortcut was not taken"
        taken.clear()
        general = predict_outputs(network, theta, seqs, idx=np.arange(n))
        assert not taken
        assert short.shape == general.shape == (n * 7 if per_step else n, 3)
        np.testing.assert_array_equal(short, general)
        # and row by row against each sequence predicted alone
        alone = predict_outputs(network, theta, seqs, idx=np.array([n - 1]))
        np.testing.assert_allclose(short[-alone.shape[0]:], alone, rtol=1e-5, atol=1e-6)


def test_equal_length_shortcut_only_where_the_general_path_is_one_unstreamed_shard():
    rng = np.random.RandomState(0)

    def takes(n, length, bidirectional=False, lengths=None):
        network, _, seqs = _equal_length_case("lstm", bidirectional, "dense", False, n, length,
                                              rng)
        if lengths is not None:
            offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
            seqs = Sequences(np.zeros((offsets[-1], 3), np.float32), offsets, 3)
        return _equal_and_few(network, seqs)

    assert takes(1, 1) and takes(SHARD_SEQUENCES - 1, 50)
    assert not takes(SHARD_SEQUENCES, 50)  # two shards may run in two threads
    assert not takes(3, 0)  # empty sequences: the general path keeps their zero states
    assert not takes(3, 5, lengths=[5, 4, 5])  # ragged
    assert takes(1, PREDICT_CHUNK_STEPS) and not takes(1, PREDICT_CHUNK_STEPS + 1)  # streamed
    assert takes(1, PREDICT_CHUNK_STEPS + 1, bidirectional=True)  # never streamed
    # past one chunk of rows (at most 4 x 6 values a row: the 16,384-row maximum)
    assert takes(2, 16384 - 1, bidirectional=True)
    assert not takes(2, 16384, bidirectional=True)


def _in_fresh_thread(fn):
    """``fn()`` in a new thread, whose prediction workspace starts empty."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def test_the_thread_workspace_is_reused_across_calls_and_models(monkeypatch):
    # Prediction keeps per-row arrays in a per-thread workspace between calls
    # (fresh ones were faulted in again every call); one shared by models of
    # other dtypes, widths and directions must never change an output.
    import skrnn._base as base
    from skrnn._network import thread_workspace

    rng = np.random.RandomState(3)
    ragged = [rng.normal(size=(rng.randint(1, 40), 3)) for _ in range(300)]
    y = rng.randint(0, 2, 300)
    lstm = RNNClassifier("lstm", (6,), max_iter=1, random_state=0).fit(
        [x.astype(np.float32) for x in ragged], y)
    gru = RNNRegressor("gru", (4, 5), bidirectional=True, max_iter=1, random_state=0).fit(
        ragged, rng.normal(size=300))
    many = ragged * 4  # chunks enough for the pool threads to run lanes of their own
    calls = [(lstm.predict_proba, ragged[:7]), (gru.predict, ragged), (lstm.predict_proba, many),
             (gru.predict, ragged[:40]), (lstm.predict_proba, ragged[:7]), (gru.predict, many)]
    expected = [_in_fresh_thread(lambda f=f, X=X: f(X)) for f, X in calls]
    for (f, X), want in zip(calls, expected):
        np.testing.assert_array_equal(f(X), want)
    assert thread_workspace().nbytes() > 0  # kept for the next call
    # A call that leaves more than the cap lets go of everything.
    monkeypatch.setattr(base, "PREDICT_WORKSPACE_BYTES", 1000)
    np.testing.assert_array_equal(gru.predict(ragged), expected[1])
    assert thread_workspace().nbytes() == 0
