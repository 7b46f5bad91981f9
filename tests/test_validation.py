"""Bad input at the estimator level.

A clear ValueError/TypeError naming the problem, and the inputs untouched.
"""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from skrnn import RNNClassifier, RNNRegressor, RNNSequenceTagger, TextOneHotEncoder

TINY = dict(hidden_layer_sizes=(3,), max_iter=1, random_state=0)
ESTIMATORS = [RNNClassifier, RNNRegressor, RNNSequenceTagger]


def _xy(est_cls, n=12, seed=0):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(rng.randint(1, 6), 2)) for _ in range(n)]
    if est_cls is RNNSequenceTagger:
        y = [np.where(x[:, 0] > 0, "a", "b") for x in X]
    elif est_cls is RNNClassifier:
        y = np.arange(n) % 2
    else:
        y = rng.normal(size=n)
    return X, y


BAD_X = [
    ([], ValueError, "0 sample"),
    ([np.array([1.0, np.nan])] * 12, ValueError, "NaN"),
    ([np.array([[1.0, np.inf]])] * 12, ValueError, "infinity"),
    ([np.ones((2, 2)), np.ones((2, 3))] * 6, ValueError, "features"),
    (np.ones((12, 2, 2, 1)), ValueError, "dimensions"),
    ([np.array([1, "x"], dtype=object)] * 12, TypeError, "non-numeric"),
    (["good movie"] * 12, TypeError, "TextOneHotEncoder"),
]


@pytest.mark.parametrize("est_cls", ESTIMATORS)
@pytest.mark.parametrize("X, error, match", BAD_X)
def test_bad_x_in_fit(est_cls, X, error, match):
    _, y = _xy(est_cls)
    with pytest.raises(error, match=match):
        est_cls(**TINY).fit(X, y)


@pytest.mark.parametrize("est_cls", ESTIMATORS)
def test_bad_x_at_predict(est_cls):
    X, y = _xy(est_cls)
    est = est_cls(**TINY).fit(X, y)
    with pytest.raises(NotFittedError):
        est_cls(**TINY).predict(X)
    with pytest.raises(ValueError, match="3 features per step.*fitted on sequences with 2"):
        est.predict([np.ones((2, 3))])
    with pytest.raises(ValueError, match="NaN"):
        est.predict([np.array([[np.nan, 1.0]])])
    with pytest.raises(ValueError, match="token sequences"):
        est.predict(TextOneHotEncoder().fit_transform(["a bb cc", "dd ee"]))
    with pytest.raises(TypeError, match="Sequence 1 of X is None"):
        est.predict([X[0], None])
    # A zero-length 1-D sequence states no feature count: it fits the model's.
    assert len(est.predict([np.zeros(0)])) == 1
    assert len(est.predict([[]])) == 1


@pytest.mark.parametrize("est_cls", ESTIMATORS)
def test_a_table_of_sequences_points_to_the_column(est_cls):
    X, y = _xy(est_cls)
    est = est_cls(**TINY).fit(X, y)
    frame = pd.DataFrame({"seq": X, "other": np.arange(len(X))})
    cells = np.empty((len(X), 1), dtype=object)
    cells[:, 0] = X
    for table in (frame[["seq"]], frame, cells):
        with pytest.raises(ValueError, match=r"cells hold sequences.*df\['seq'\]"):
            est.predict(table)
    assert len(est.predict(frame["seq"])) == len(X)


def test_values_past_float32_at_predict_are_named_as_such():
    X, y = _xy(RNNClassifier)
    clf = RNNClassifier(**TINY).fit([x.astype(np.float32) for x in X], y)
    for big in ([np.full((3, 2), 1e100)], np.full((1, 3, 2), 1e100)):
        with pytest.raises(ValueError, match=r"beyond float32's range.*sequence 0, step 0"):
            clf.predict(big)
    with pytest.raises(ValueError, match=r"contains infinity \(sequence 0"):
        RNNClassifier(**TINY).fit(X, y).predict([np.full((3, 2), np.inf)])


@pytest.mark.parametrize("est_cls", ESTIMATORS)
def test_inputs_are_never_modified(est_cls):
    X, y = _xy(est_cls)
    X_frames = pd.Series([pd.DataFrame(x, columns=["u", "v"]) for x in X])
    sw = np.linspace(0.5, 2, len(X))
    before = copy.deepcopy((X, y, sw))
    est = est_cls(**TINY).fit(X, y, sample_weight=sw)
    est.predict(X)
    est_cls(**TINY).fit(X_frames, y).predict(X_frames)
    for a, b in zip(X, before[0]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(y, before[1]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(sw, before[2])


@pytest.mark.parametrize("est_cls", [RNNClassifier, RNNRegressor])
def test_bad_y(est_cls):
    X, y = _xy(est_cls)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est_cls(**TINY).fit(X, y[:-1])
    with pytest.raises(ValueError, match="requires y"):
        est_cls(**TINY).fit(X, None)
    y_nan = np.array(y, dtype=float)
    y_nan[3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the error alone, no cast warning first
        with pytest.raises(ValueError, match="NaN"):
            est_cls(**TINY).fit(X, y_nan)


def test_classifier_label_errors():
    X, y = _xy(RNNClassifier)
    with pytest.raises(ValueError, match="only one class"):
        RNNClassifier(**TINY).fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="Unknown label type|continuous"):
        RNNClassifier(**TINY).fit(X, np.linspace(0, 1, len(X)))
    clf = RNNClassifier(**TINY).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not seen"):
        clf.partial_fit(X, np.full(len(X), 7))
    with pytest.raises(ValueError, match="not the same as on the first call"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not in `classes`"):
        RNNClassifier(**TINY).partial_fit(X, y, classes=[0])


def test_tagger_labels_mixing_strings_and_numbers_in_one_sequence():
    # np.asarray(["a", 1]) would make the 1 a "1".
    X, _ = _xy(RNNSequenceTagger)
    y = [["a", 1] + ["a"] * (len(x) - 2) if len(x) >= 2 else ["a"] * len(x) for x in X]
    with pytest.raises(ValueError, match=r"mixes label types \(int, str\)"):
        RNNSequenceTagger(**TINY).fit(X, y)


@pytest.mark.parametrize("est_cls", [RNNClassifier, RNNSequenceTagger])
@pytest.mark.parametrize("str_first", [True, False])
def test_labels_mixing_strings_and_numbers(est_cls, str_first):
    X, _ = _xy(est_cls)
    labels = ["a", 1] if str_first else [1, "a"]
    if est_cls is RNNSequenceTagger:
        y = [np.array([labels[i % 2]] * len(x), dtype=object) for i, x in enumerate(X)]
    else:
        y = np.array([labels[i % 2] for i in range(len(X))], dtype=object)
    with pytest.raises(ValueError, match=r"mixes label types \(int, str\)"):
        est_cls(**TINY).fit(X, y)


@pytest.mark.parametrize("est_cls", ESTIMATORS)
@pytest.mark.parametrize(
    "sample_weight, error, match",
    [
        (np.ones(3), ValueError, "sample_weight.shape"),
        (-np.ones(12), ValueError, "non-negative"),
        (np.full(12, np.nan), ValueError, "NaN"),
        (np.zeros(12), ValueError, "zero everywhere"),
        (np.array(["a"] * 12), TypeError, "numeric"),
    ],
)
def test_bad_sample_weight(est_cls, sample_weight, error, match):
    X, y = _xy(est_cls)
    with pytest.raises(error, match=match):
        est_cls(**TINY).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("est_cls", ESTIMATORS)
@pytest.mark.parametrize(
    "params, match",
    [
        ({"cell": "transformer"}, "'cell' parameter"),
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (3, -2)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": ()}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (2.5,)}, "hidden_layer_sizes"),
        ({"cell": "gru", "activation": "relu"}, "activation='relu' applies to cell='rnn'"),
        ({"activation": "sigmoid"}, "'activation' parameter"),
        ({"solver": "lbfgs"}, "'solver' parameter"),
        ({"learning_rate_init": -1.0}, "learning_rate_init"),
        ({"max_iter": 0}, "max_iter"),
        ({"batch_size": 0}, "batch_size"),
        ({"alpha": -1.0}, "alpha"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"max_grad_norm": 0.0}, "max_grad_norm"),
        ({"embedding_dim": 0}, "embedding_dim"),
        ({"embedding_dim": 4}, "needs token input"),
        ({"momentum": 2.0}, "momentum"),
    ],
)
def test_invalid_hyperparameters(est_cls, params, match):
    X, y = _xy(est_cls)
    with pytest.raises(ValueError, match=match):
        est_cls(**{**TINY, **params}).fit(X, y)


def test_token_ids_edited_after_encoding_raise_instead_of_reading_out_of_bounds():
    docs = ["good movie", "bad movie", "good plot"] * 4
    y = np.arange(12) % 2
    tokens = TextOneHotEncoder().fit_transform(docs)
    clf = RNNClassifier(**TINY).fit(tokens, y)
    tokens.token_ids[3] = tokens.n_vocabulary + 100  # a kernel would index past the weights
    with pytest.raises(ValueError, match="token ids outside"):
        clf.predict(tokens)
    with pytest.raises(ValueError, match="token ids outside"):
        RNNClassifier(**TINY).fit(tokens, y)
