"""Pickled estimators: another process, plain state, the version stamp (skrnn._persistence)."""

import copy
import io
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

import skrnn
from skrnn import RNNClassifier, RNNRegressor, RNNSequenceTagger, TextOneHotEncoder
from skrnn._persistence import VERSION_KEY, InconsistentSkrnnVersionWarning
from skrnn.datasets import make_movie_reviews

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def ragged(n, n_features, seed, dtype=np.float64):
    rng = np.random.RandomState(seed)
    lengths = rng.randint(0, 9, size=n)
    lengths[0] = 5  # at least one non-empty sequence
    return [rng.normal(size=(t, n_features)).astype(dtype) for t in lengths]


def _classifier():
    X = ragged(40, 3, seed=0)
    y = np.array(["low", "mid", "high"])[np.arange(40) % 3]
    model = RNNClassifier("gru", (4,), bidirectional=True, max_iter=3, random_state=0)
    return model.fit(X, y), ragged(15, 3, seed=1)


def _tagger():
    X = ragged(30, 2, seed=2, dtype=np.float32)
    y = [np.where(x[:, 0] > 0, "up", "down") for x in X]
    model = RNNSequenceTagger("lstm", (4, 3), max_iter=3, random_state=0)
    return model.fit(X, y), ragged(10, 2, seed=3, dtype=np.float32)


def _text_pipeline():
    reviews = make_movie_reviews(80, random_state=0)
    model = make_pipeline(
        TextOneHotEncoder(),
        RNNClassifier("rnn", (4,), embedding_dim=3, max_iter=3, random_state=0),
    )
    model.fit(reviews["text"], reviews["label"])
    X = list(make_movie_reviews(12, random_state=1)["text"]) + [
        "",
        "words the model never saw",
    ]
    return model, X


def _regressor():
    X = ragged(30, 2, seed=4)
    y = np.random.RandomState(4).normal(size=(30, 2))
    model = RNNRegressor(
        "rnn",
        (3,),
        solver="sgd",
        early_stopping=True,
        validation_fraction=0.3,
        max_iter=3,
        random_state=0,
    )
    return model.fit(X, y), ragged(5, 2, seed=5)


MODELS = {
    "classifier": _classifier,
    "tagger": _tagger,
    "text_pipeline": _text_pipeline,
}


@pytest.fixture(scope="module")
def fitted():
    return {name: make() for name, make in {**MODELS, "regressor": _regressor}.items()}


def _predictions(model, X):
    proba = model.predict_proba(X) if hasattr(model, "predict_proba") else None
    return model.predict(X), proba


def _assert_same_outputs(got, expected):
    if isinstance(expected, list):  # tagger: one array per sequence
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.dtype == e.dtype
            np.testing.assert_array_equal(g, e)
    else:
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


# Loads each saved model in a fresh interpreter and saves its predictions.
LOAD_AND_PREDICT = textwrap.dedent(
    """
    import sys, warnings
    import joblib
    import skrnn
    from skrnn._persistence import InconsistentSkrnnVersionWarning

    warnings.simplefilter("error", InconsistentSkrnnVersionWarning)
    folder, names = sys.argv[1], sys.argv[2:]
    out = {}
    for name in names:
        model = joblib.load(f"{folder}/{name}.joblib")
        X = joblib.load(f"{folder}/{name}_X.joblib")
        out[name] = (model.predict(X), model.predict_proba(X))
    joblib.dump(out, f"{folder}/predictions.joblib")
    print(skrnn.__file__)
    """
)


@pytest.fixture(scope="module")
def predictions_in_fresh_process(fitted, tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved_models")
    for name in MODELS:
        model, X = fitted[name]
        joblib.dump(model, folder / f"{name}.joblib")
        joblib.dump(X, folder / f"{name}_X.joblib")
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(folder), *MODELS],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr
    # The child imported this very skrnn, not another installation.
    assert result.stdout.strip() == skrnn.__file__
    return joblib.load(folder / "predictions.joblib")


@pytest.mark.parametrize("name", list(MODELS))
def test_joblib_model_predicts_identically_in_a_fresh_process(
    name, fitted, predictions_in_fresh_process
):
    model, X = fitted[name]
    pred, proba = predictions_in_fresh_process[name]
    expected_pred, expected_proba = _predictions(model, X)
    _assert_same_outputs(pred, expected_pred)
    _assert_same_outputs(proba, expected_proba)


# -- what a pickle holds -------------------------------------------------------

PLAIN_SCALARS = (
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    np.generic,
    np.dtype,
)


def _assert_plain(obj, path):
    """Fail unless ``obj`` is built from plain values, ndarrays and skrnn records."""
    if isinstance(obj, PLAIN_SCALARS):
        return
    if isinstance(obj, type) and issubclass(obj, np.generic):
        return  # a dtype given as a class, e.g. TextOneHotEncoder(dtype=np.float64)
    module = type(obj).__module__ or ""
    assert not module.startswith("numba"), f"{path} is a Numba object: {type(obj)}"
    if isinstance(obj, np.ndarray):
        assert type(obj) is np.ndarray, f"{path} is an ndarray subclass {type(obj)}"
        if obj.dtype.hasobject:
            for i, item in enumerate(obj.ravel()):
                _assert_plain(item, f"{path}[{i}]")
        return
    if type(obj) is dict:
        for key, value in obj.items():
            _assert_plain(key, f"{path} key {key!r}")
            _assert_plain(value, f"{path}[{key!r}]")
        return
    if type(obj) in (list, tuple, set, frozenset):
        for i, item in enumerate(obj):
            _assert_plain(item, f"{path}[{i}]")
        return
    assert not callable(obj), f"{path} is callable: {obj!r}"
    # Anything else must be one of skrnn's own small records, itself plain.
    assert module.startswith("skrnn."), f"{path} has unexpected type {type(obj)}"
    _assert_plain(vars(obj), f"{path}.__dict__")


class _RecordingUnpickler(pickle.Unpickler):
    """Unpickler noting every global (class or function) the pickle refers to."""

    def __init__(self, data):
        super().__init__(io.BytesIO(data))
        self.globals = set()

    def find_class(self, module, name):
        self.globals.add((module, name))
        return super().find_class(module, name)


# Modules a pickled estimator may refer to: numpy's array reconstruction,
# builtins and pickle helpers, and skrnn itself (never numba).
ALLOWED_GLOBAL_MODULES = ("numpy", "builtins", "copyreg", "_codecs", "skrnn.")


@pytest.mark.parametrize("name", ["classifier", "tagger", "text_pipeline", "regressor"])
def test_pickled_state_is_plain_values_and_arrays(name, fitted):
    model, X = fitted[name]
    _predictions(model, X)  # predicting must not leave compiled objects behind
    estimators = (
        [step for _, step in model.steps] if hasattr(model, "steps") else [model]
    )
    for est in estimators:
        _assert_plain(est.__getstate__(), type(est).__name__)
        unpickler = _RecordingUnpickler(pickle.dumps(est))
        unpickler.load()
        for module, qualname in unpickler.globals:
            assert not module.startswith("numba"), (module, qualname)
            assert module.startswith(ALLOWED_GLOBAL_MODULES), (module, qualname)


def test_pickling_leaves_the_estimator_unchanged(fitted):
    model, _ = fitted["classifier"]
    before = dict(vars(model))
    pickle.dumps(model)
    after = vars(model)
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    assert VERSION_KEY not in after


# -- the version stamp -------------------------------------------------------


@pytest.mark.parametrize("name", ["classifier", "tagger", "regressor"])
def test_pickle_carries_the_version_and_same_version_loads_silently(name, fitted):
    model, X = fitted[name]
    assert model.__getstate__()[VERSION_KEY] == skrnn.__version__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(pickle.dumps(model))
        copied = copy.deepcopy(model)
    for other in (loaded, copied):
        assert VERSION_KEY not in vars(other)  # the stamp is not an attribute
        assert vars(other).keys() == vars(model).keys()
        _assert_same_outputs(other.predict(X), model.predict(X))


def test_another_version_warns_and_names_both_versions(fitted, monkeypatch):
    model, X = fitted["classifier"]
    with monkeypatch.context() as patch:
        patch.setattr(skrnn, "__version__", "0.0.1")
        data = pickle.dumps(model)
    with pytest.warns(InconsistentSkrnnVersionWarning) as record:
        loaded = pickle.loads(data)
    [warning] = [w.message for w in record]
    assert isinstance(warning, UserWarning)
    assert warning.estimator_name == "RNNClassifier"
    assert warning.original_skrnn_version == "0.0.1"
    assert warning.current_skrnn_version == skrnn.__version__
    message = str(warning)
    assert "0.0.1" in message and skrnn.__version__ in message
    assert "predictions may differ" in message
    # Loading still works (it is a warning), and the stamp is not kept.
    assert VERSION_KEY not in vars(loaded)
    _assert_same_outputs(loaded.predict(X), model.predict(X))
    # The warning survives pickling (raised as an error in a worker process).
    again = pickle.loads(pickle.dumps(warning))
    assert type(again) is InconsistentSkrnnVersionWarning and str(again) == message


def test_text_encoder_pickles_carry_the_version_too(fitted, monkeypatch):
    pipeline, X = fitted["text_pipeline"]
    encoder = pipeline[0]
    assert encoder.__getstate__()[VERSION_KEY] == skrnn.__version__
    assert VERSION_KEY not in vars(encoder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(pickle.dumps(encoder))
    assert VERSION_KEY not in vars(loaded)
    assert loaded.vocabulary_ == encoder.vocabulary_
    got, expected = loaded.transform(X), encoder.transform(X)
    np.testing.assert_array_equal(got.token_ids, expected.token_ids)
    np.testing.assert_array_equal(got.offsets, expected.offsets)
    with monkeypatch.context() as patch:
        patch.setattr(skrnn, "__version__", "0.0.1")
        data = pickle.dumps(pipeline)
    with pytest.warns(InconsistentSkrnnVersionWarning) as record:
        pickle.loads(data)
    names = sorted(w.message.estimator_name for w in record
                   if isinstance(w.message, InconsistentSkrnnVersionWarning))
    assert names == ["RNNClassifier", "TextOneHotEncoder"]


def test_missing_stamp_warns(fitted):
    model, _ = fitted["tagger"]
    state = model.__getstate__()
    del state[VERSION_KEY]  # as in a pickle made before the stamp existed
    loaded = RNNSequenceTagger.__new__(RNNSequenceTagger)
    with pytest.warns(
        InconsistentSkrnnVersionWarning, match="no version stamp"
    ) as record:
        loaded.__setstate__(state)
    assert record[0].message.original_skrnn_version is None


def test_weights_carry_over_through_the_public_attributes(fitted):
    """The documented way across versions: copy the public arrays into a model
    fitted briefly on similar data with the same hyper-parameters."""
    model, X = fitted["classifier"]
    saved = {
        "recurrent_weights_": copy.deepcopy(model.recurrent_weights_),
        "embedding_": copy.deepcopy(model.embedding_),
        "coef_": model.coef_.copy(),
        "intercept_": model.intercept_.copy(),
    }
    other = RNNClassifier(**{**model.get_params(), "max_iter": 1, "random_state": 1})
    X_few = ragged(6, 3, seed=9)
    other.fit(X_few, model.classes_[np.arange(6) % 3])
    np.testing.assert_array_equal(other.classes_, model.classes_)
    assert not np.array_equal(other.predict_proba(X), model.predict_proba(X))
    for attribute, value in saved.items():
        setattr(other, attribute, value)
    _assert_same_outputs(other.predict_proba(X), model.predict_proba(X))
    _assert_same_outputs(other.predict(X), model.predict(X))
