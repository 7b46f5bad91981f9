"""RNNSequenceTagger's fitting behaviour (sklearn's common checks need 1-D y)."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

from skrnn import RNNSequenceTagger

TINY = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)


def tagged(n=30, seed=0, labels=("hi", "lo")):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(rng.randint(1, 8), 2)) for _ in range(n)]
    y = [np.where(x[:, 0] > 0, labels[0], labels[1]) for x in X]
    return X, y


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_outputs_are_ragged_and_follow_classes():
    X, y = tagged()
    y3 = [np.array(["a", "b", "c"])[np.arange(len(x)) % 3] for x in X]
    for labels in (y, y3):
        tagger = RNNSequenceTagger(**TINY).fit(X, labels)
        pred, proba = tagger.predict(X), tagger.predict_proba(X)
        k = len(tagger.classes_)
        assert [p.shape for p in pred] == [(len(x),) for x in X]
        assert [p.shape for p in proba] == [(len(x), k) for x in X]
        np.testing.assert_allclose(np.concatenate(proba).sum(axis=1), 1.0)
        for p, q in zip(pred, proba):
            np.testing.assert_array_equal(p, tagger.classes_[q.argmax(axis=1)])
        # str labels stay str, as RNNClassifier's and LabelEncoder's classes_ do
        assert tagger.classes_.dtype.kind == "U" and pred[0].dtype.kind == "U"
    assert tagger.coef_.shape == (3, 5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_integer_labels_2d_y_and_score():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(20, 6, 1))
    y = (X[:, :, 0] > 0).astype(int)  # (n, T) labels for equal-length sequences
    tagger = RNNSequenceTagger(**TINY).fit(X, y)
    assert list(tagger.classes_) == [0, 1]
    pred = np.array(tagger.predict(X))
    assert tagger.score(X, y) == pytest.approx(np.mean(pred == y))
    weights = np.arange(20.0)
    per_seq = (pred == y).mean(axis=1)
    assert tagger.score(X, y, sample_weight=weights) == pytest.approx(
        np.average(per_seq, weights=weights)
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore:Got `batch_size`")
def test_class_weight_is_per_step():
    from skrnn._sequences import validate_sequences

    X, y = tagged(40)
    steps = np.concatenate(y)
    sw = np.linspace(0.5, 2.0, len(X))
    lengths = np.array([len(x) for x in X])
    counts = {c: np.sum(steps == c) for c in ("hi", "lo")}
    # Each step is weighted by its own label's class weight (times its
    # sequence's sample weight): exactly what the per-step loss receives.
    for class_weight, expected in [
        ({"hi": 3.0}, np.where(steps == "hi", 3.0, 1.0)),
        ("balanced", np.array([len(steps) / (2 * counts[s]) for s in steps])),
    ]:
        tagger = RNNSequenceTagger(**TINY, class_weight=class_weight)
        seqs = validate_sequences(tagger, X, reset=True)
        _, row_w, *_ = tagger._prepare_targets(y, seqs, reset=True)
        np.testing.assert_allclose(row_w, expected)
        np.testing.assert_allclose(
            tagger._combine_weights(sw, row_w, seqs.lengths), np.repeat(sw, lengths) * expected
        )
    full = dict(TINY, batch_size=64)
    plain = RNNSequenceTagger(**full).fit(X, y)
    weighted = RNNSequenceTagger(**full, class_weight={"hi": 3.0}).fit(X, y)
    assert not np.allclose(weighted.coef_, plain.coef_)
    with pytest.raises(ValueError, match="class_weight"):
        RNNSequenceTagger(**full, class_weight={"nope": 1.0}).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore:Got `batch_size`")
def test_sample_weight_zero_removes_sequences():
    X, y = tagged(30)
    full = dict(TINY, batch_size=64)
    sw = np.ones(30)
    sw[::3] = 0
    keep = sw > 0
    a = RNNSequenceTagger(**full).fit(X, y, sample_weight=sw)
    b = RNNSequenceTagger(**full).fit(
        [x for x, k in zip(X, keep) if k], [t for t, k in zip(y, keep) if k]
    )
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_warm_start_pickle_clone():
    X, y = tagged(30)
    tagger = RNNSequenceTagger(**TINY)
    with pytest.raises(ValueError, match="classes must be passed"):
        tagger.partial_fit(X, y)
    tagger.partial_fit(X, y, classes=["hi", "lo", "mid"])
    tagger.partial_fit(X, y)
    assert len(tagger.loss_curve_) == 2
    assert tagger.predict_proba(X[:1])[0].shape[1] == 3
    with pytest.raises(ValueError, match="not seen"):
        tagger.partial_fit(X[:1], [np.array(["new"] * len(X[0]))])
    loaded = pickle.loads(pickle.dumps(tagger))
    for p, q in zip(loaded.predict_proba(X), tagger.predict_proba(X)):
        np.testing.assert_array_equal(p, q)
    assert not hasattr(clone(tagger), "coef_")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_cross_validation_and_grid_search():
    X, y = tagged(30)
    X, y = np.array(X, dtype=object), np.array(y, dtype=object)
    scores = cross_val_score(RNNSequenceTagger(**TINY), X, y, cv=3)
    assert scores.shape == (3,) and np.all((0 <= scores) & (scores <= 1))
    grid = GridSearchCV(RNNSequenceTagger(**TINY), {"bidirectional": [False, True]}, cv=2)
    grid.fit(X, y)
    assert grid.best_params_["bidirectional"] in (False, True)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_early_stopping_uses_per_step_accuracy():
    X, y = tagged(40)
    tagger = RNNSequenceTagger(**{**TINY, "max_iter": 5, "early_stopping": True}).fit(X, y)
    assert len(tagger.validation_scores_) == tagger.n_iter_
    assert all(0 <= s <= 1 for s in tagger.validation_scores_)


def test_bad_targets():
    X, y = tagged(10)
    tagger = RNNSequenceTagger(**TINY)
    with pytest.raises(ValueError, match=r"y\[2\] has .* labels but X sequence 2 has"):
        tagger.fit(X, [t if i != 2 else np.append(t, "hi") for i, t in enumerate(y)])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        tagger.fit(X, y[:-1])
    with pytest.raises(ValueError, match="one label per step"):
        tagger.fit(X, np.array(["hi"] * 10))
    with pytest.raises(ValueError, match="only one class"):
        tagger.fit(X, [np.array(["hi"] * len(x)) for x in X])
    with pytest.raises(ValueError, match="NaN"):
        tagger.fit(X, [np.full(len(x), np.nan) for x in X])
