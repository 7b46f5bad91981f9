"""Behaviour of the estimators as scikit-learn users rely on it (after test_mlp.py)."""

import pickle
import re
import warnings

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


def test_replaced_attributes_keep_the_fitted_dtype_and_are_checked(data):
    X, y = data
    clf = RNNClassifier(**TINY).fit(X, y)
    proba = clf.predict_proba(X)
    coef = clf.coef_
    clf.coef_ = coef.tolist()  # any array-like
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    clf.coef_ = coef.astype(np.float32)  # cast to the fitted float64, not a float32 model
    assert clf.predict_proba(X).dtype == np.float64
    clf.coef_ = coef
    weights = clf.recurrent_weights_[0][0]
    for bad, error, match in [
        ({k: v for k, v in weights.items() if k != "bias_hh"}, ValueError,
         r"recurrent_weights_\[0\]\[0\] lacks \['bias_hh'\]"),
        (list(weights.values()), TypeError, "must be a dict of arrays, got list"),
        ({**weights, "bias_ih": np.array(["x"] * weights["bias_ih"].shape[0])}, TypeError,
         r"\['bias_ih'\] must be a real numeric array"),
    ]:
        clf.recurrent_weights_[0][0] = bad
        with pytest.raises(error, match=match):
            clf.predict(X)
    clf.recurrent_weights_[0][0] = weights
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


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
    # As MLPClassifier: every class comes back in a warm start.
    with pytest.raises(ValueError, match=r"same classes.*\['neg', 'pos'\], y has \['pos'\]"):
        clf.fit(X, np.full(len(y), "pos"))
    tagger = RNNSequenceTagger(**{**TINY, "warm_start": True})
    steps = [np.where(x[:, 0] > 0, "hi", "lo") for x in X]
    with pytest.warns(ConvergenceWarning):
        tagger.fit(X, steps)
    with pytest.raises(ValueError, match=r"same classes.*y has \['lo'\]"):
        tagger.fit(X, [np.full(len(x), "lo") for x in X])


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


def test_a_clipped_batch_size_warns_once_a_fit(data):
    X, y = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        RNNClassifier(**{**TINY, "batch_size": 100}).fit(X, y)
    clipped = [w for w in caught if "clipped" in str(w.message)]
    assert len(clipped) == 1


def test_continuing_another_network_says_what_changed(data):
    X, y = data
    clf = RNNClassifier(**TINY).partial_fit(X, y, classes=["neg", "pos"])
    with pytest.raises(ValueError, match=r"\(hidden_layer_sizes \(5,\) -> \(6,\)\): "
                                         "partial_fit continues.*fit trains a new one"):
        clf.set_params(hidden_layer_sizes=(6,)).partial_fit(X, y)
    clf.set_params(hidden_layer_sizes=(5,), cell="gru", warm_start=True)
    with pytest.raises(ValueError, match=r"\(cell 'lstm' -> 'gru'\): warm_start continues.*"
                                         "warm_start=False"):
        clf.fit(X, y)


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
    grid = GridSearchCV(
        RNNClassifier(**TINY), {"cell": ["rnn", "gru"], "hidden_layer_sizes": [(3,), (4,)]}, cv=2
    )
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


def _fit_state(est):
    """What fit sets, as comparable copies: public attributes and the weights."""
    state = {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}
    state.pop("recurrent_weights_", None)
    state = {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else
             list(v) if isinstance(v, list) else v for k, v in state.items()}
    return state, _weights(est)


def _assert_same_state(before, est):
    state, weights = _fit_state(est)
    assert state.keys() == before[0].keys()
    for k, v in before[0].items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(state[k], v, err_msg=k)
        else:
            assert state[k] == v, k
    for a, b in zip(weights, before[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_failed_fit_leaves_the_estimator_as_it_was(data):
    X, y = data
    clf = RNNClassifier("rnn", activation="relu", **TINY).fit(X, y)
    before = _fit_state(clf)
    proba = clf.predict_proba(X)
    # New classes and one feature a step, at a scale that overflows (relu
    # does not saturate).
    X_new = [1e200 * x[:, :1] for x in X]
    y_new = np.arange(40) % 3
    with pytest.raises(ValueError, match="non-finite.*left as it was"):
        clf.set_params(max_grad_norm=None).fit(X_new, y_new)
    _assert_same_state(before, clf)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    assert list(clf.predict(X[:3])) == list(clf.classes_[np.argmax(proba[:3], axis=1)])


def test_a_failed_first_fit_leaves_nothing_for_partial_fit(data):
    # The failed fit created an optimizer for a 2-unit network before its
    # early-stopping split failed; partial_fit must not reuse it for 16 units
    # (its updates do not check bounds: this crashed the process).
    X, y = data
    y5 = np.arange(10) % 5
    clf = RNNClassifier(hidden_layer_sizes=(2,), early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match="test_size"):
        clf.fit(X[:10], y5)
    assert vars(clf) == vars(clone(clf))
    clf.set_params(early_stopping=False, hidden_layer_sizes=(16,))
    clf.partial_fit(X[:10], y5, classes=np.arange(5))
    fresh = clone(clf).partial_fit(X[:10], y5, classes=np.arange(5))
    np.testing.assert_array_equal(clf.coef_, fresh.coef_)
    assert clf.loss_curve_ == fresh.loss_curve_


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_a_partial_fit_refused_at_its_input_keeps_the_optimizer(data, solver):
    # The next call continues as if the refused one had never been made.
    X, _ = data
    y = np.sin(np.arange(40))
    reg = RNNRegressor(**TINY, solver=solver).partial_fit(X, y)
    other = pickle.loads(pickle.dumps(reg))
    with pytest.raises(ValueError, match="NaN"):
        reg.partial_fit(X, np.full(40, np.nan))
    reg.partial_fit(X, y)
    other.partial_fit(X, y)
    np.testing.assert_array_equal(reg.coef_, other.coef_)
    assert reg.loss_curve_ == other.loss_curve_


def test_a_failed_partial_fit_restarts_the_optimizer(data):
    X, _ = data
    y = np.sin(np.arange(40))
    reg = RNNRegressor(**TINY).partial_fit(X, y)
    before = _fit_state(reg)
    with pytest.raises(ValueError, match="non-finite"):
        reg.set_params(max_grad_norm=None).partial_fit(X, 1e200 * y)
    _assert_same_state(before, reg)
    # The next partial_fit starts a fresh optimizer with the current
    # learning rate: one epoch of a warm-started fit from the same weights.
    reg.set_params(learning_rate_init=0.01, max_grad_norm=5.0)
    warm = pickle.loads(pickle.dumps(reg)).set_params(warm_start=True, max_iter=1)
    reg.partial_fit(X, y)
    with pytest.warns(ConvergenceWarning):
        warm.fit(X, y)
    np.testing.assert_array_equal(reg.coef_, warm.coef_)
    np.testing.assert_array_equal(reg.recurrent_weights_[0][0]["weight_hh"],
                                  warm.recurrent_weights_[0][0]["weight_hh"])


def test_a_ctrl_c_while_validating_leaves_the_estimator_as_it_was(data):
    # Training catches its own KeyboardInterrupt (keeping the weights so
    # far); one in validation, before it, must not leave n_features_in_ of
    # the new X beside the old weights.
    X, y = data
    clf = RNNClassifier(**TINY).fit(X, y)
    before = _fit_state(clf)

    class Interrupting:
        def __array__(self, dtype=None, copy=None):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        clf.fit([np.hstack([x, x]) for x in X], Interrupting())
    _assert_same_state(before, clf)


@pytest.mark.parametrize("first, then", [(True, False), (False, True)])
def test_warm_start_may_turn_early_stopping_on_or_off(data, first, then):
    X, y = data
    clf = RNNClassifier(**{**TINY, "early_stopping": first, "validation_fraction": 0.25})
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    clf.set_params(warm_start=True, early_stopping=then)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    assert len(clf.loss_curve_) == 6
    if then:
        assert len(clf.validation_scores_) == 3 and clf.best_loss_ is None
        assert clf.best_validation_score_ == max(clf.validation_scores_)
    else:
        assert clf.validation_scores_ is None and clf.best_validation_score_ is None
        assert clf.best_loss_ == min(clf.loss_curve_[3:])
    if first:  # and partial_fit after a fit with early stopping
        clf.set_params(early_stopping=False).partial_fit(X, y)
        assert len(clf.loss_curve_) == 7


def test_an_undefined_validation_score_is_an_error(data, monkeypatch):
    # R² of one held-out sequence is NaN: it never beat the first "best"
    # score, and the fit returned its initial weights.
    X, _ = data
    reg = RNNRegressor(**{**TINY, "early_stopping": True})
    with pytest.raises(ValueError, match=r"score is undefined \(nan\) on the 1 held-out"):
        reg.fit(X[:8], np.arange(8.0))
    assert not hasattr(reg, "coef_")
    # A tagger whose held-out sequences have no steps (the split holds out
    # the two empty ones).
    import skrnn._training as training

    X_tag = [np.zeros((0, 2))] * 2 + X[:8]
    y_tag = [np.array([], dtype=int)] * 2 + [np.arange(len(x)) % 2 for x in X[:8]]
    monkeypatch.setattr(training, "_split_validation",
                        lambda est, seqs, stratify, rng: (np.arange(2, 10), np.arange(2)))
    tagger = RNNSequenceTagger(**{**TINY, "early_stopping": True})
    with pytest.raises(ValueError, match=r"score is undefined \(nan\) on the 2 held-out"):
        tagger.fit(X_tag, y_tag)


@pytest.mark.parametrize("Estimator", [RNNClassifier, RNNSequenceTagger])
def test_batches_of_zero_weight_sequences_are_skipped(data, Estimator):
    X, y = data
    if Estimator is RNNSequenceTagger:
        y = [np.where(x[:, 0] > 0, "hi", "lo") for x in X]
    w = np.zeros(40)
    w[::4] = 1.0  # batches of two: one weighted sequence, then one of zero weight only
    keep = np.flatnonzero(w)
    weighted = Estimator(**TINY, batch_size=2, shuffle=False).fit(X, y, sample_weight=w)
    # A zero-weight sequence adds nothing to its batch's weighted mean, and a
    # batch of only such sequences is no training step at all.
    subset = Estimator(**TINY, batch_size=1, shuffle=False).fit(
        [X[i] for i in keep], [y[i] for i in keep])
    for a, b in zip(_weights(weighted), _weights(subset), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, subset.loss_curve_, rtol=1e-12)


def test_tagger_score_checks_sample_weight_and_label_types():
    X = ragged(6, seed=3)
    y = [np.where(x[:, 0] > 0, "hi", "lo") for x in X]
    tagger = RNNSequenceTagger(**TINY).fit(X, y)
    assert tagger.score(X, y, sample_weight=np.ones(6)) == tagger.score(X, y)
    # Numbers against str classes_ compared all unequal: a silent 0.0.
    with pytest.raises(ValueError, match="Mix of label input types"):
        tagger.score(X, [np.zeros(len(x), dtype=int) for x in X])
    for weights, error, match in [
        (np.ones(3), ValueError, r"sample_weight.shape == \(3,\), expected \(6,\)"),
        (-np.ones(6), ValueError, "non-negative"),
        (np.full(6, np.nan), ValueError, "NaN"),
        (np.zeros(6), ValueError, "zero on every step"),
        (np.array(list("abcdef")), TypeError, "numeric"),
    ]:
        with pytest.raises(error, match=match):
            tagger.score(X, y, sample_weight=weights)


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
