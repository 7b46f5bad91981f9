"""Tests of skrnn.datasets: shapes, determinism, task invariants and errors."""

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.utils import Bunch

from skrnn.datasets import (
    load_digits_sequences,
    make_adding_problem,
    make_ar_series,
    make_entity_sentences,
    make_movie_reviews,
    make_next_value_sequences,
    make_seasonal_series,
    series_to_windows,
)
from skrnn.datasets import _text


# ---------------------------------------------------------------------------
# Determinism and validation shared by every generator
# ---------------------------------------------------------------------------
def _assert_same(a, b):
    """Recursive equality of generator outputs (arrays, lists, pandas)."""
    assert type(a) is type(b)
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert a == b


def _differs(a, b):
    try:
        _assert_same(a, b)
    except AssertionError:
        return True
    return False


SEEDED = {
    "adding": lambda rs: make_adding_problem(20, 10, random_state=rs),
    "adding_ragged": lambda rs: make_adding_problem(20, 10, variable_length=True, random_state=rs),
    "next_value": lambda rs: make_next_value_sequences(20, random_state=rs),
    "reviews": lambda rs: make_movie_reviews(20, random_state=rs),
    "reviews_neutral": lambda rs: make_movie_reviews(21, neutral=True, random_state=rs),
    "entities": lambda rs: make_entity_sentences(20, random_state=rs),
    "seasonal": lambda rs: make_seasonal_series(30, random_state=rs),
    "ar": lambda rs: make_ar_series(30, random_state=rs),
    "windows": lambda rs: series_to_windows(
        np.arange(40.0), min_length=2, max_length=9, random_state=rs
    ),
}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_deterministic_given_seed_and_different_across_seeds(name):
    make = SEEDED[name]
    _assert_same(make(0), make(0))
    _assert_same(make(np.random.RandomState(3)), make(3))
    assert _differs(make(0), make(1))


@pytest.mark.parametrize(
    "make, n_name",
    [
        (make_adding_problem, "n_samples"),
        (make_next_value_sequences, "n_samples"),
        (make_movie_reviews, "n_samples"),
        (make_entity_sentences, "n_samples"),
        (make_seasonal_series, "n_steps"),
        (make_ar_series, "n_steps"),
    ],
)
def test_size_validation(make, n_name):
    for bad in (0, -5):
        with pytest.raises(ValueError, match=n_name):
            make(bad)
    with pytest.raises(TypeError, match=n_name):
        make(2.5)
    with pytest.raises(TypeError, match=n_name):
        make(True)


def test_other_parameter_errors():
    with pytest.raises(ValueError, match="n_steps"):
        make_adding_problem(5, n_steps=1)
    with pytest.raises(TypeError, match="variable_length"):
        make_adding_problem(5, variable_length="yes")
    with pytest.raises(ValueError, match="min_length must not exceed max_length"):
        make_next_value_sequences(5, min_length=6, max_length=5)
    with pytest.raises(ValueError, match="min_length"):
        make_next_value_sequences(5, min_length=1)
    with pytest.raises(ValueError, match="scale"):
        make_next_value_sequences(5, scale=0.0)
    with pytest.raises(ValueError, match="period"):
        make_seasonal_series(10, period=0)
    with pytest.raises(ValueError, match="noise"):
        make_seasonal_series(10, noise=-1.0)
    with pytest.raises(ValueError, match="noise"):
        make_ar_series(10, noise=-1.0)
    with pytest.raises(ValueError, match="non-stationary"):
        make_ar_series(10, coefs=(1.0,))
    with pytest.raises(ValueError, match="non-stationary"):
        make_ar_series(10, coefs=(0.5, 0.6))
    with pytest.raises(ValueError, match="coefs"):
        make_ar_series(10, coefs=[[0.5]])
    with pytest.raises(TypeError, match="neutral"):
        make_movie_reviews(5, neutral=None)
    with pytest.raises(TypeError, match="return_X_y"):
        load_digits_sequences(return_X_y=1)


# ---------------------------------------------------------------------------
# Adding problem
# ---------------------------------------------------------------------------
def _check_adding_sequence(x, target):
    assert x.ndim == 2 and x.shape[1] == 2 and x.dtype == np.float64
    values, markers = x[:, 0], x[:, 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(markers)) <= {0.0, 1.0}
    marked = np.flatnonzero(markers)
    assert marked.shape == (2,)
    half = x.shape[0] // 2
    assert marked[0] < half <= marked[1] < x.shape[0]
    assert target == pytest.approx(values[marked].sum())


def test_adding_problem_fixed_length():
    X, y = make_adding_problem(300, 12, random_state=0)
    assert isinstance(X, np.ndarray) and X.shape == (300, 12, 2) and X.dtype == np.float64
    assert y.shape == (300,) and y.dtype == np.float64
    for x, target in zip(X, y):
        _check_adding_sequence(x, target)
    # Both markers visit every allowed position.
    marked = np.argwhere(X[:, :, 1] == 1)[:, 1]
    assert set(marked) == set(range(12))


def test_adding_problem_variable_length():
    X, y = make_adding_problem(300, 11, variable_length=True, random_state=0)
    assert isinstance(X, list) and len(X) == 300 and y.shape == (300,)
    lengths = {x.shape[0] for x in X}
    assert lengths == set(range(5, 12))
    for x, target in zip(X, y):
        _check_adding_sequence(x, target)
    # Shortest legal setting still has two halves.
    X, y = make_adding_problem(20, 2, variable_length=True, random_state=0)
    assert {x.shape[0] for x in X} == {2}


# ---------------------------------------------------------------------------
# Next-value sequences
# ---------------------------------------------------------------------------
def test_next_value_sequences():
    X, y = make_next_value_sequences(200, min_length=4, max_length=7, scale=1.0, random_state=0)
    assert isinstance(X, list) and len(X) == 200 and y.shape == (200,)
    assert {x.shape[0] for x in X} == {4, 5, 6, 7}
    for x, target in zip(X, y):
        assert x.ndim == 1 and x.dtype == np.float64
        steps = np.diff(x)
        assert np.all(steps == steps[0])
        assert target == x[-1] + steps[0]
        assert x[0] == int(x[0])  # integer start when unscaled
    Xs, ys = make_next_value_sequences(200, min_length=4, max_length=7, scale=0.1, random_state=0)
    np.testing.assert_allclose(ys, 0.1 * y)
    np.testing.assert_allclose(Xs[5], 0.1 * X[5])


# ---------------------------------------------------------------------------
# Movie reviews
# ---------------------------------------------------------------------------
_POSITIVE = set(_text._POSITIVE_ADJECTIVES) | set(_text._POSITIVE_VERBS)
_NEGATIVE = set(_text._NEGATIVE_ADJECTIVES) | set(_text._NEGATIVE_VERBS)
_NEUTRAL = set(_text._NEUTRAL_ADJECTIVES)
_NEGATORS = {"not", "never", "hardly"}


def _parse_review(tokens):
    """Label of a review from its tokens, written from the documented grammar.

    Clauses are found through their sentiment word (the adjective or verb
    ends a clause's polar part; a negator before it flips it); the connective
    says which clause decides.
    """
    clauses, negated = [], False
    contrast, concessive_at = False, None
    for token in tokens:
        if token in _NEGATORS:
            negated = True
        elif token in _POSITIVE or token in _NEGATIVE:
            polarity = 1 if token in _POSITIVE else -1
            clauses.append(-polarity if negated else polarity)
            negated = False
        elif token in _NEUTRAL:
            clauses.append(0)
        elif token in ("but", "yet", "however"):
            contrast = True
        elif token in ("although", "though"):  # also covers "even though"
            concessive_at = len(clauses)
    if contrast or concessive_at == 0:
        decisive = clauses[-1]
    else:  # one clause, or "C1 although C2 [and C3]"
        decisive = clauses[0]
    return {1: "positive", -1: "negative", 0: "neutral"}[decisive]


@pytest.fixture(scope="module")
def reviews():
    return make_movie_reviews(2000, random_state=0)


def test_movie_reviews_frame(reviews):
    assert isinstance(reviews, pd.DataFrame)
    assert list(reviews.columns) == ["text", "label"] and reviews.shape == (2000, 2)
    assert all(isinstance(t, str) for t in reviews["text"])
    counts = reviews["label"].value_counts()
    assert set(counts.index) == {"negative", "positive"}
    assert counts.max() - counts.min() <= 1
    lengths = reviews["text"].str.split().str.len()
    assert lengths.min() >= 4 and lengths.max() <= 20
    # Both one-clause and several-clause reviews, with every connective.
    words = set(" ".join(reviews["text"]).split())
    connectives = {"but", "yet", "however", "although", "though", "even"}
    assert connectives | {"not", "never", "hardly"} <= words
    # Lowercase words separated by single spaces: nothing for a tokenizer to lose.
    assert reviews["text"].str.fullmatch(r"[a-z]+( [a-z]+)*").all()


@pytest.mark.parametrize("neutral", [False, True])
def test_movie_reviews_label_is_function_of_text(neutral):
    reviews = make_movie_reviews(1500, neutral=neutral, random_state=1)
    assert (reviews.groupby("text")["label"].nunique() == 1).all()
    parsed = reviews["text"].str.split().map(_parse_review)
    assert (parsed == reviews["label"]).all()
    # Same on the tokens CountVectorizer (and so TextOneHotEncoder's default) sees.
    analyzer = CountVectorizer().build_analyzer()
    assert (reviews["text"].map(lambda t: _parse_review(analyzer(t))) == reviews["label"]).all()


def test_movie_reviews_order_and_negation_decide():
    """The reference parser gives the documented labels to minimal pairs."""
    examples = {
        "the plot was good": "positive",
        "the plot was not good": "negative",
        "the plot was not bad": "positive",
        "the plot was good but the acting was bad": "negative",
        "the acting was bad but the plot was good": "positive",
        "although the plot was good the acting was bad": "negative",
        "the plot was good although the acting was bad": "positive",
        "i never liked the plot": "negative",
        "the plot was okay and the acting was bad but the music was good": "positive",
    }
    for text, label in examples.items():
        assert _parse_review(text.split()) == label


@pytest.mark.parametrize("neutral, bound", [(False, 0.75), (True, 0.55)])
def test_movie_reviews_bag_of_words_baseline_fails(neutral, bound):
    reviews = make_movie_reviews(2000, neutral=neutral, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(
        reviews["text"], reviews["label"], test_size=0.3, random_state=0, stratify=reviews["label"]
    )
    baseline = make_pipeline(CountVectorizer(ngram_range=(1, 1)), LogisticRegression(max_iter=1000))
    baseline.fit(X_train, y_train)
    assert baseline.score(X_test, y_test) < bound
    # The rule reading order and negation is exact on the same split.
    assert (X_test.str.split().map(_parse_review) == y_test).all()


def test_movie_reviews_neutral_and_shuffle():
    reviews = make_movie_reviews(100, neutral=True, random_state=0)
    counts = reviews["label"].value_counts().to_dict()
    assert counts == {"negative": 34, "neutral": 33, "positive": 33}
    # Three clauses: one sentiment word of each kind.
    for text in reviews["text"]:
        tokens = text.split()
        assert sum(t in _NEUTRAL for t in tokens) == 1
        assert sum(t in _POSITIVE or t in _NEGATIVE for t in tokens) == 2
    grouped = make_movie_reviews(7, shuffle=False, random_state=0)
    assert grouped["label"].tolist() == ["negative"] * 4 + ["positive"] * 3


# ---------------------------------------------------------------------------
# Entity sentences
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def entities():
    return make_entity_sentences(500, random_state=0)


def test_entity_sentences_aligned(entities):
    sentences, tags = entities
    assert isinstance(sentences, list) and isinstance(tags, list)
    assert len(sentences) == len(tags) == 500
    for words, labels in zip(sentences, tags):
        assert len(words) == len(labels) >= 3
        assert all(isinstance(w, str) and w == w.lower() and " " not in w for w in words)
        assert set(labels) <= {"O", "PER", "LOC", "ORG"}
    all_tags = {t for labels in tags for t in labels}
    assert all_tags == {"O", "PER", "LOC", "ORG"}


def test_entity_tags_depend_on_context(entities):
    sentences, tags = entities
    seen = defaultdict(set)
    for words, labels in zip(sentences, tags):
        for word, label in zip(words, labels):
            seen[word].add(label)
    assert seen["washington"] >= {"PER", "LOC", "ORG"}
    assert seen["jordan"] >= {"PER", "LOC"}
    assert seen["teddy"] == {"PER", "O"}
    assert seen["apple"] == {"ORG", "O"}
    assert seen["ford"] >= {"PER", "ORG", "O"}
    n_ambiguous = sum(len(labels) > 1 for labels in seen.values())
    assert n_ambiguous >= 10
    # 'teddy roosevelt' is a person, 'teddy bears' are not.
    for words, labels in zip(sentences, tags):
        for i, word in enumerate(words[:-1]):
            if word == "teddy":
                expected = "PER" if words[i + 1] == "roosevelt" else "O"
                assert labels[i] == labels[i + 1] == expected


def test_entity_tags_are_function_of_sentence():
    sentences, tags = make_entity_sentences(3000, random_state=1)
    first = {}
    for words, labels in zip(sentences, tags):
        assert first.setdefault(tuple(words), tuple(labels)) == tuple(labels)
    assert len(first) < 3000  # duplicates did occur, so the check compared something


# ---------------------------------------------------------------------------
# Time series
# ---------------------------------------------------------------------------
def test_seasonal_series():
    s = make_seasonal_series(120, period=12, noise=0.0, trend=0.5, start="2021-03-01", freq="h")
    assert isinstance(s, pd.Series) and s.shape == (120,) and s.dtype == np.float64
    assert isinstance(s.index, pd.DatetimeIndex)
    assert s.index[0] == pd.Timestamp("2021-03-01")
    assert s.index[1] - s.index[0] == pd.Timedelta("1h")
    t = np.arange(120)
    np.testing.assert_allclose(s.to_numpy(), np.sin(2 * np.pi * t / 12) + 0.5 * t, atol=1e-12)
    noisy = make_seasonal_series(120, period=12, noise=0.3, start=None, random_state=0)
    assert isinstance(noisy.index, pd.RangeIndex)
    assert 0.15 < np.std(noisy.to_numpy() - np.sin(2 * np.pi * t / 12)) < 0.45


def test_ar_series():
    s = make_ar_series(5000, coefs=(0.6,), random_state=0)
    assert isinstance(s, pd.Series) and s.shape == (5000,) and isinstance(s.index, pd.DatetimeIndex)
    x = s.to_numpy()
    assert np.corrcoef(x[:-1], x[1:])[0, 1] == pytest.approx(0.6, abs=0.05)
    # Stationary variance of AR(1): 1 / (1 - 0.36), from the first values on.
    assert np.var(x[:2500]) == pytest.approx(1 / (1 - 0.36), rel=0.15)
    assert np.all(make_ar_series(10, noise=0.0).to_numpy() == 0)
    white = make_ar_series(10, coefs=(), start=None, random_state=0)
    assert isinstance(white.index, pd.RangeIndex)


@pytest.mark.parametrize("horizon, stride", [(1, 1), (3, 1), (1, 4), (2, 3)])
def test_series_to_windows_targets(horizon, stride):
    x = np.arange(60.0) ** 1.5
    X, y = series_to_windows(
        x, min_length=5, max_length=12, horizon=horizon, stride=stride, random_state=0
    )
    assert isinstance(X, list) and isinstance(y, np.ndarray) and len(X) == y.shape[0]
    positions = np.flatnonzero(np.isin(x, y))
    assert positions[-1] == 59  # the newest value is always a target
    assert np.all(np.diff(positions) == stride)
    assert positions[0] - horizon + 1 - 5 < stride  # no window that fits is left out
    for window, target, pos in zip(X, y, positions):
        assert window.ndim == 1 and window.dtype == np.float64
        assert 5 <= window.shape[0] <= 12
        end = pos - horizon + 1
        np.testing.assert_array_equal(window, x[end - window.shape[0] : end])
        assert target == x[pos]
    if stride == 1:
        assert {w.shape[0] for w in X} == set(range(5, 13))
    # Windows are copies.
    X[0][0] = -1.0
    assert x.min() == 0.0


def test_series_to_windows_keeps_time_index():
    s = make_seasonal_series(40, period=7, start="2022-01-01", freq="D", random_state=0)
    s.name = "sales"
    X, y = series_to_windows(s, min_length=4, max_length=6, horizon=2, random_state=0)
    assert isinstance(y, pd.Series) and y.name == "sales"
    assert isinstance(y.index, pd.DatetimeIndex)
    assert y.index[-1] == s.index[-1] and y.index[0] == s.index[4 + 2 - 1]
    pd.testing.assert_series_equal(y, s.loc[y.index])
    for window, stamp in zip(X, y.index):
        end = s.index.get_loc(stamp) - 2 + 1
        np.testing.assert_array_equal(window, s.to_numpy()[end - window.shape[0] : end])
    # Fixed length: no randomness needed.
    X1, y1 = series_to_windows(s, min_length=5, max_length=5)
    assert {w.shape[0] for w in X1} == {5} and len(X1) == 35


def test_series_to_windows_errors():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="fewer than min_length \\+ horizon"):
        series_to_windows(x, min_length=8, max_length=9, horizon=3)
    series_to_windows(x, min_length=8, max_length=9, horizon=2)  # exactly enough
    with pytest.raises(ValueError, match="NaN"):
        series_to_windows(np.r_[x, np.nan], min_length=2, max_length=3)
    with pytest.raises(ValueError, match="NaN"):
        series_to_windows(pd.Series([1.0, None, 3.0, 4.0]), min_length=1, max_length=2)
    with pytest.raises(ValueError, match="min_length must not exceed max_length"):
        series_to_windows(x, min_length=5, max_length=4)
    for name in ("min_length", "max_length", "horizon", "stride"):
        for bad in (0, -1):
            with pytest.raises(ValueError, match=name):
                series_to_windows(x, **{"min_length": 1, "max_length": 2, name: bad})
    with pytest.raises(ValueError, match="1-D"):
        series_to_windows(x.reshape(5, 2), min_length=1, max_length=2)
    with pytest.raises(ValueError, match="1-D"):
        series_to_windows(pd.DataFrame({"a": x}), min_length=1, max_length=2)
    with pytest.raises(ValueError, match="numeric"):
        series_to_windows(["a", "b", "c"], min_length=1, max_length=2)


# ---------------------------------------------------------------------------
# Digits
# ---------------------------------------------------------------------------
def test_load_digits_sequences():
    bunch = load_digits_sequences()
    assert isinstance(bunch, Bunch)
    assert {"data", "target", "target_names", "DESCR"} <= set(bunch)
    assert bunch.data.shape == (1797, 8, 8) and bunch.data.dtype == np.float64
    assert bunch.data.flags.c_contiguous
    assert bunch.target.shape == (1797,)
    np.testing.assert_array_equal(bunch.target_names, np.arange(10))
    assert isinstance(bunch.DESCR, str) and "8 steps" in bunch.DESCR
    flat = load_digits()
    np.testing.assert_array_equal(bunch.data.reshape(1797, 64), flat.data)
    np.testing.assert_array_equal(bunch.data[:, 2], flat.data[:, 16:24])  # step 2 = third row
    X, y = load_digits_sequences(return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)
