"""Behaviour of the estimators as scikit-learn users rely on it (after test_mlp.py)."""

import pickle
import re

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skrnn import RNNClassifier, RNNRegressor, RNNSequenceTagger

TINY = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)


def ragged(n=30, n_features=2, seed=0, dtype=np.float64, min_len=1, max_len=7):
    rng = np.random.RandomState(seed)
    lengths = rng.randint(min_len, max_len + 1, size=n)
    return [rng.normal(size=(t, n_features)).astype(dtype) for t in lengths]


def first_step_labels(X):
    return np.array(["pos" if x[0, 0] > 0 else "neg" for x in X])


@pytest.fixture(scope="module")
def data():
    X = ragged(40)
    return X, first_step_labels(X)


def _weights(est):
    flat = [est.coef_, est.intercept_]
    for layer in est.recurrent_weights_:
        for d in layer:
            flat.extend(d.values())
    return flat


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fitted_attributes_and_torch_layout(cell, data):
    X, y = data
    clf = RNNClassifier(cell, bidirectional=True, **{**TINY, "hidden_layer_sizes": (5, 3)})
    clf.fit(X, y)
    g = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    assert clf.n_features_in_ == 2
    assert list(clf.classes_) == ["neg", "pos"]
    assert len(clf.recurrent_weights_) == 2
    assert [len(layer) for layer in clf.recurrent_weights_] == [2, 2]
    w0 = clf.recurrent_weights_[0][1]
    assert w0["weight_ih"].shape == (g * 5, 2)
    assert w0["weight_hh"].shape == (g * 5, 5)
    assert w0["bias_ih"].shape == w0["bias_hh"].shape == (g * 5,)
    assert clf.recurrent_weights_[1][0]["weight_ih"].shape == (g * 3, 10)
    assert clf.coef_.shape == (1, 6) and clf.intercept_.shape == (1,)
    assert clf.embedding_ is None
    assert len(clf.loss_curve_) == clf.n_iter_ == 3
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.predict_proba(X).shape == (40, 2)


def test_predictions_follow_classes_and_proba(data):
    X, y = data
    clf = RNNClassifier(**TINY).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(np.log(proba), clf.predict_log_proba(X))
    assert clf.decision_function(X).shape == (40,)
    y3 = np.array(["a", "b", "c"])[np.arange(40) % 3]
    clf3 = RNNClassifier(**TINY).fit(X, y3)
    assert clf3.predict_proba(X).shape == (40, 3)
    assert clf3.coef_.shape == (3, 5)
    assert set(clf3.predict(X)) <= {"a", "b", "c"}


def test_same_random_state_identical_weights(data):
    X, y = data
    a = RNNClassifier("gru", **TINY).fit(X, y)
    b = RNNClassifier("gru", **TINY).fit(X, y)
    for wa, wb in zip(_weights(a), _weights(b)):
        np.testing.assert_array_equal(wa, wb)
    c = RNNClassifier("gru", **{**TINY, "random_state": 1}).fit(X, y)
    assert not np.array_equal(a.coef_, c.coef_)


def test_prediction_independent_of_batch_mates_and_order(data):
    X, y = data
    clf = RNNClassifier("lstm", bidirectional=True, **TINY).fit(X, y)
    full = clf.decision_function(X)
    perm = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(clf.decision_function([X[i] for i in perm]), full[perm],
                               rtol=1e-12, atol=1e-14)
    single = np.array([clf.decision_function([x])[0] for x in X[:8]])
    np.testing.assert_allclose(single, full[:8], rtol=1e-12, atol=1e-14)


def test_every_x_format_gives_the_same_result():
    rng = np.random.RandomState(0)
    cube = rng.normal(size=(12, 6, 1))
    y = (cube[:, 0, 0] > 0).astype(int)
    formats = {
        "3d": cube,
        "list2d": [c for c in cube],
        "list1d": [c[:, 0] for c in cube],
        "tuple": tuple(c[:, 0] for c in cube),
        "lists": [list(c[:, 0]) for c in cube],
        "series": pd.Series([c[:, 0] for c in cube]),
        "object": np.array([c[:, 0] for c in cube] + [None], dtype=object)[:-1],
        "frames": [pd.DataFrame(c) for c in cube],
    }
    ref = RNNClassifier(**TINY).fit(cube, y).predict_proba(cube)
    for name, X in formats.items():
        got = RNNClassifier(**TINY).fit(X, y).predict_proba(X)
        np.testing.assert_allclose(got, ref, rtol=1e-12, err_msg=name)
    table = cube[:, :, 0]
    clf = RNNClassifier(**TINY).fit(table, y)
    assert clf.n_features_in_ == 6
    np.testing.assert_allclose(clf.predict_proba(table), ref, rtol=1e-12)
    df = pd.DataFrame(table, columns=[f"t{i}" for i in range(6)])
    clf = RNNClassifier(**TINY).fit(df, y)
    assert list(clf.feature_names_in_) == list(df.columns)
    np.testing.assert_allclose(clf.predict_proba(df), ref, rtol=1e-12)
    with pytest.raises(ValueError, match="X has 5 features, but RNNClassifier is expecting 6"):
        RNNClassifier(**TINY).fit(table, y).predict(table[:, :5])


def test_float32_kept_and_close_to_float64(data):
    X, y = data
    X32 = [x.astype(np.float32) for x in X]
    c32 = RNNClassifier(**TINY).fit(X32, y)
    c64 = RNNClassifier(**TINY).fit(X, y)
    assert c32.coef_.dtype == np.float32
    assert c32.recurrent_weights_[0][0]["weight_hh"].dtype == np.float32
    assert c32.predict_proba(X32).dtype == np.float32
    assert c64.coef_.dtype == np.float64
    np.testing.assert_allclose(c32.predict_proba(X), c64.predict_proba(X), atol=1e-3)


def test_pickle_joblib_clone_round_trips(tmp_path, data):
    X, y = data
    clf = RNNClassifier("gru", bidirectional=True, **TINY).fit(X, y)
    expected = clf.predict_proba(X)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    joblib.dump(clf, tmp_path / "m.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "m.joblib").predict_proba(X), expected)
    # After loading, predict uses the loaded attributes and training can go on.
    loaded.set_params(warm_start=True, max_iter=1)
    with pytest.warns(ConvergenceWarning):
        loaded.fit(X, y)
    assert len(loaded.loss_curve_) == 4
    fresh = clone(clf)
    assert not hasattr(fresh, "coef_")
    assert fresh.get_params() == clf.get_params()


def test_public_attributes_are_the_source_of_truth(data):
    X, y = data
    clf = RNNRegressor(**TINY).fit(X, np.arange(40.0))
    before = clf.predict(X)
    clf.intercept_ = clf.intercept_ + 1.0  # replaced: predict must use it
    np.testing.assert_allclose(clf.predict(X), before + 1.0)
    clf.intercept_[...] -= 1.0  # in place
    np.testing.assert_allclose(clf.predict(X), before)


def test_warm_start_extends_loss_curve_and_keeps_weights(data):
    X, y = data
    clf = RNNClassifier(**{**TINY, "warm_start": True})
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    coef = clf.coef_.copy()
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    assert len(clf.loss_curve_) == 6 and clf.n_iter_ == 3
    assert not np.array_equal(coef, clf.coef_)
    cold = clone(clf).set_params(warm_start=False).fit(X, y)
    assert len(cold.loss_curve_) == 3
    with pytest.raises(ValueError, match="not seen"):
        clf.fit(X, np.where(y == "pos", "pos", "other"))


def test_partial_fit(data):
    X, y = data
    clf = RNNClassifier(**TINY)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:20], y[:20], classes=["neg", "pos", "zero"])
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 1 and clf.t_ == 20
    clf.partial_fit(X[20:], y[20:])
    assert len(clf.loss_curve_) == 2 and clf.t_ == 40
    assert clf.predict_proba(X).shape == (40, 3)
    with pytest.raises(ValueError, match="not seen"):
        clf.partial_fit(X[:3], ["new", "neg", "pos"])
    with pytest.raises(ValueError, match="early_stopping"):
        RNNClassifier(early_stopping=True).partial_fit(X, y, classes=["neg", "pos"])
    reg = RNNRegressor(**TINY).partial_fit(X, np.ones(40))
    assert reg.n_iter_ == 1


def test_early_stopping_restores_best_weights(data, monkeypatch):
    # skrnn imports train_test_split when it splits, so the spy goes on sklearn's module.
    import sklearn.model_selection as model_selection

    X, y = data
    splits = []

    def spy(*args, **kwargs):
        result = training_split(*args, **kwargs)
        splits.append(result[1])
        return result

    training_split = model_selection.train_test_split
    monkeypatch.setattr(model_selection, "train_test_split", spy)
    clf = RNNClassifier(**{**TINY, "max_iter": 40, "early_stopping": True,
                           "n_iter_no_change": 4, "learning_rate_init": 0.1})
    clf.fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    val = np.sort(splits[0])
    assert len(val) == 4  # ceil(0.1 * 40), stratified
    assert clf.score([X[i] for i in val], y[val]) == clf.best_validation_score_


def test_verbose_output(capsys, data):
    X, y = data
    RNNClassifier(**{**TINY, "verbose": True, "early_stopping": True}).fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"Epoch 1, loss = [\d.]+, validation score = [\d.]+, time = [\d.]+s", out)
    assert "Stopping" in out
    RNNClassifier(**TINY).fit(X, y)
    assert capsys.readouterr().out == ""


def test_convergence_warning_only_when_max_iter_ends(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        RNNClassifier(**TINY).fit(X, y)
    with _no_convergence_warning():
        RNNClassifier(**{**TINY, "max_iter": 200, "tol": 10.0, "n_iter_no_change": 1}).fit(X, y)


class _no_convergence_warning:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings(record=True)
        self._log = self._ctx.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)
        assert not [w for w in self._log if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.filterwarnings("ignore:Got `batch_size`")
def test_sample_weight_and_class_weight(data):
    X, y = data
    sw = np.ones(40)
    a = RNNClassifier(**TINY).fit(X, y)
    b = RNNClassifier(**TINY).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    # Zero weight on a sequence = the sequence is not there (one full batch each).
    full = dict(TINY, batch_size=64)
    sw = np.ones(40)
    sw[::4] = 0
    keep = sw > 0
    c = RNNClassifier(**full).fit(X, y, sample_weight=sw)
    d = RNNClassifier(**full).fit([x for x, k in zip(X, keep) if k], y[keep])
    np.testing.assert_allclose(c.coef_, d.coef_, rtol=1e-8)
    # class_weight={'pos': 2} is sample_weight 2 on the 'pos' sequences.
    e = RNNClassifier(**full, class_weight={"pos": 2.0}).fit(X, y)
    f = RNNClassifier(**full).fit(X, y, sample_weight=np.where(y == "pos", 2.0, 1.0))
    np.testing.assert_allclose(e.coef_, f.coef_, rtol=1e-10)
    from sklearn.utils.class_weight import compute_sample_weight

    g = RNNClassifier(**full, class_weight="balanced").fit(X, y)
    h = RNNClassifier(**full).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_allclose(g.coef_, h.coef_, rtol=1e-10)
    with pytest.raises(ValueError, match="sample_weight"):
        RNNClassifier(**TINY).fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        RNNClassifier(**TINY).fit(X, y, sample_weight=-np.ones(40))


def test_pipeline_grid_search_cross_val(data):
    X, y = data
    pipe = make_pipeline(FunctionTransformer(lambda s: [x * 2 for x in s]), RNNClassifier(**TINY))
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (40,)
    scores = cross_val_score(RNNClassifier(**TINY), X, y, cv=3)
    assert scores.shape == (3,)
    grid = GridSearchCV(RNNClassifier(**TINY), {"cell": ["rnn", "gru"], "hidden_layer_sizes": [(3,), (4,)]}, cv=2)
    grid.fit(np.array(X, dtype=object), y)
    assert grid.best_params_["cell"] in ("rnn", "gru")


def test_regressor_multi_output_and_shapes(data):
    X, _ = data
    y2 = np.column_stack([[x[:, 0].sum() for x in X], [len(x) for x in X]])
    reg = RNNRegressor(**TINY).fit(X, y2)
    assert reg.predict(X).shape == (40, 2) and reg.n_outputs_ == 2
    reg = RNNRegressor(**TINY).fit(X, y2[:, 0])
    assert reg.predict(X).shape == (40,)
    assert isinstance(reg.score(X, y2[:, 0]), float)


def test_zero_length_sequences():
    X = ragged(20)
    y = np.arange(20) % 2
    X[3] = np.zeros((0, 2))
    clf = RNNClassifier(**TINY).fit(X, y)
    out = clf.decision_function([np.zeros((0, 2)), X[0]])
    assert out[0] == pytest.approx(clf.intercept_[0])
    with pytest.raises(ValueError, match="zero steps"):
        RNNClassifier(**TINY).fit([np.zeros((0, 2))] * 4, [0, 1, 0, 1])


def test_invalid_hyperparameters(data):
    X, y = data
    for params, match in [
        ({"cell": "transformer"}, "cell"),
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": ()}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (4, -1)}, "hidden_layer_sizes"),
        ({"cell": "lstm", "activation": "relu"}, "activation"),
        ({"learning_rate_init": 0}, "learning_rate_init"),
        ({"max_grad_norm": -1.0}, "max_grad_norm"),
        ({"embedding_dim": 4}, "embedding_dim"),
        ({"batch_size": 0}, "batch_size"),
    ]:
        with pytest.raises(ValueError, match=match):
            RNNClassifier(**{**TINY, **params}).fit(X, y)


@pytest.mark.parametrize(
    "params, scale",
    [({"solver": "sgd", "learning_rate_init": 1e3}, 1e6), ({}, 1e200)],
    ids=["exploding-sgd", "overflowing-loss"],
)
def test_divergence_is_a_clear_error(data, params, scale):
    X, _ = data
    y = scale * (np.arange(40) % 2)
    reg = RNNRegressor(**{**TINY, "max_iter": 50, "n_iter_no_change": 50,
                          "max_grad_norm": None, **params})
    with pytest.raises(ValueError, match="non-finite.*learning rate.*max_grad_norm"):
        reg.fit(X, y)
    assert not hasattr(reg, "coef_")


def test_tagger_basics():
    X = ragged(25, seed=3)
    y = [np.where(x[:, 0] > 0, "hi", "lo") for x in X]
    tagger = RNNSequenceTagger(**TINY).fit(X, y)
    pred = tagger.predict(X)
    assert [len(p) for p in pred] == [len(x) for x in X]
    proba = tagger.predict_proba(X)
    assert all(p.shape == (len(x), 2) for p, x in zip(proba, X))
    assert 0 <= tagger.score(X, y) <= 1
    X[2] = np.zeros((0, 2))
    y[2] = np.array([], dtype=str)
    tagger.fit(X, y)
    assert tagger.predict(X)[2].shape == (0,)
    with pytest.raises(ValueError, match="length|steps"):
        tagger.fit(X, [labels[:-1] if len(labels) else labels for labels in y])


def test_regressor_column_target_warns_like_mlp(data):
    from sklearn.exceptions import DataConversionWarning

    X, _ = data
    y = np.arange(40.0).reshape(-1, 1)
    with pytest.warns(DataConversionWarning):
        reg = RNNRegressor(**TINY).fit(X, y)
    assert reg.n_outputs_ == 1 and reg.predict(X).shape == (40,)
