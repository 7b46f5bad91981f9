"""Property tests: random ragged inputs through fit/predict of every estimator.

Hypothesis draws the data (1..12 sequences of 1..50 steps, sometimes one of
zero steps, 1..4 features, float32 or float64, values in [-1e3, 1e3], several
containers) and a tiny model; each test asserts that fitting and predicting
do not crash, that outputs have the documented shapes and dtypes, that
probabilities are finite and sum to one, and that the caller's arrays are left
untouched.
"""

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skrnn import RNNClassifier, RNNRegressor, RNNSequenceTagger

# batch_size=3 above a smaller n_samples is clipped with a warning, as in MLP.
pytestmark = pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning")

# No example database: every run draws afresh instead of replaying (and
# saving) failing examples under .hypothesis/; a failure prints its seed.
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
VALUE_BOUND = 1e3


@st.composite
def ragged_inputs(draw, min_sequences=1):
    """(X as the user passes it, the list of its sequences, dtype, n_features)."""
    n_features = draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    lengths = draw(st.lists(st.integers(1, 50), min_size=min_sequences, max_size=12))
    if len(lengths) < 12 and draw(st.booleans()):
        lengths.insert(draw(st.integers(0, len(lengths))), 0)
    total = sum(lengths)
    width = 32 if dtype == np.float32 else 64
    elements = st.floats(
        -VALUE_BOUND, VALUE_BOUND, width=width, allow_nan=False, allow_infinity=False
    )
    # Hypothesis fills big arrays sparsely (mostly one repeated value plus a
    # few drawn ones); seeded noise on top keeps the sequences from being flat.
    packed = draw(hnp.arrays(dtype, (total, n_features), elements=elements))
    noise_scale = draw(st.sampled_from([0.0, 1.0]))
    seed = draw(st.integers(0, 2**31 - 1))
    noise = np.random.default_rng(seed).standard_normal(packed.shape)
    packed = np.clip(packed + noise_scale * noise, -VALUE_BOUND, VALUE_BOUND).astype(
        dtype
    )
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    univariate = n_features == 1 and draw(st.booleans())
    seqs = []
    for start, stop in pairwise(bounds):
        seq = packed[start:stop].copy()
        seqs.append(seq[:, 0].copy() if univariate else seq)
    container = draw(st.sampled_from(["list", "tuple", "object", "series"]))
    if container == "list":
        X = list(seqs)
    elif container == "tuple":
        X = tuple(seqs)
    elif container == "object":
        X = np.empty(len(seqs), dtype=object)
        for i, seq in enumerate(seqs):  # X[:] = seqs would broadcast equal shapes
            X[i] = seq
    else:
        X = pd.Series(seqs)
    return X, seqs, dtype, n_features


@st.composite
def tiny_models(draw):
    layers = draw(st.lists(st.integers(2, 3), min_size=1, max_size=2))
    return {
        "cell": draw(st.sampled_from(["rnn", "lstm", "gru"])),
        "hidden_layer_sizes": tuple(layers),
        "bidirectional": draw(st.booleans()),
        "max_iter": draw(st.integers(1, 2)),
        "batch_size": draw(st.sampled_from(["auto", 1, 3])),
        "random_state": 0,
    }


def _labels(draw, n, kind):
    """n labels from >= 2 classes, every class present, in drawn order."""
    n_classes = draw(st.integers(2, min(4, n)))
    codes = np.arange(n) % n_classes
    codes = codes[draw(st.permutations(range(n)))]
    names = {
        "int": np.array([3, -1, 7, 0]),
        "str": np.array(["spam", "ham", "eggs", "x"]),
    }[kind]
    return names[codes]


def _snapshot(seqs):
    return [np.array(s, copy=True) for s in seqs]


def _assert_unmodified(X, seqs, snapshot):
    assert len(X) == len(snapshot)
    for i, (seq, before) in enumerate(zip(seqs, snapshot)):
        # X[i] for every container (a Series indexes by label, here 0..n-1).
        assert X[i] is seq
        assert seq.dtype == before.dtype and seq.shape == before.shape
        np.testing.assert_array_equal(seq, before)


def _rtol(dtype):
    return 1e-5 if dtype == np.float32 else 1e-12


def _assert_probabilities(proba, n_rows, n_classes, dtype):
    """Rows of class probabilities: the shape, the model's dtype, finite, in [0, 1], sum 1."""
    assert proba.shape == (n_rows, n_classes) and proba.dtype == dtype
    assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=_rtol(dtype) * 10)


@SETTINGS
@given(data=ragged_inputs(min_sequences=2), model=tiny_models(), st_data=st.data())
def test_classifier_on_random_ragged_input(data, model, st_data):
    X, seqs, dtype, n_features = data
    n = len(seqs)
    y = _labels(st_data.draw, n, st_data.draw(st.sampled_from(["int", "str"])))
    y_before = y.copy()
    before = _snapshot(seqs)

    clf = RNNClassifier(**model).fit(X, y)
    pred = clf.predict(X)
    proba = clf.predict_proba(X)

    classes = np.unique(y)
    np.testing.assert_array_equal(clf.classes_, classes)
    assert clf.n_features_in_ == n_features
    assert pred.shape == (n,) and pred.dtype == classes.dtype
    assert set(pred) <= set(classes)
    _assert_probabilities(proba, n, len(classes), dtype)
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_array_equal(y, y_before)
    _assert_unmodified(X, seqs, before)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")  # (n, 1) y
@SETTINGS
@given(data=ragged_inputs(), model=tiny_models(), st_data=st.data())
def test_regressor_on_random_ragged_input(data, model, st_data):
    X, seqs, dtype, n_features = data
    n = len(seqs)
    n_targets = st_data.draw(st.integers(0, 3))  # 0: 1-D y
    shape = (n,) if n_targets == 0 else (n, n_targets)
    y = st_data.draw(
        hnp.arrays(np.float64, shape, elements=st.floats(-100, 100, allow_nan=False))
    )
    y_before = y.copy()
    before = _snapshot(seqs)

    reg = RNNRegressor(**model).fit(X, y)
    pred = reg.predict(X)

    assert reg.n_features_in_ == n_features
    # As MLPRegressor: one target gives 1-D predictions, even from a (n, 1) y.
    assert pred.shape == ((n,) if n_targets <= 1 else shape) and pred.dtype == dtype
    assert np.all(np.isfinite(pred))
    np.testing.assert_array_equal(y, y_before)
    _assert_unmodified(X, seqs, before)


@SETTINGS
@given(data=ragged_inputs(), model=tiny_models(), st_data=st.data())
def test_tagger_on_random_ragged_input(data, model, st_data):
    X, seqs, dtype, n_features = data
    lengths = [len(s) for s in seqs]
    total = sum(lengths)
    assume(total >= 2)  # two classes need two steps
    flat = _labels(st_data.draw, total, st_data.draw(st.sampled_from(["int", "str"])))
    y = np.split(flat, np.cumsum(lengths)[:-1])
    y_before = [labels.copy() for labels in y]
    before = _snapshot(seqs)

    tagger = RNNSequenceTagger(**model).fit(X, y)
    pred = tagger.predict(X)
    proba = tagger.predict_proba(X)

    classes = np.unique(flat)
    np.testing.assert_array_equal(tagger.classes_, classes)
    assert tagger.n_features_in_ == n_features
    assert len(pred) == len(proba) == len(seqs)
    for t, p, q in zip(lengths, pred, proba):
        assert p.shape == (t,) and p.dtype == tagger.classes_.dtype
        _assert_probabilities(q, t, len(classes), dtype)
        np.testing.assert_array_equal(p, tagger.classes_[q.argmax(axis=1)])
    for labels, labels_before in zip(y, y_before):
        np.testing.assert_array_equal(labels, labels_before)
    _assert_unmodified(X, seqs, before)
