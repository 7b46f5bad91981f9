"""Text to trained RNN inside scikit-learn: pipelines, column transformers, grid search.

The sentiment reviews of ``make_movie_reviews`` make word order and negation
decisive: the same words in another order are an equally likely review with
the other label, so a bag-of-words model is at chance by construction.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline

from skrnn import RNNClassifier, RNNRegressor, RNNSequenceTagger, TextOneHotEncoder
from skrnn.datasets import make_entity_sentences, make_movie_reviews


@pytest.fixture(scope="module")
def sentiment():
    frame = make_movie_reviews(2000, random_state=0)
    X, y = frame["text"], frame["label"].to_numpy()
    return (X[:1500], y[:1500]), (X[1500:], y[1500:])


@pytest.mark.slow
@pytest.mark.parametrize("embedding_dim", [None, 8])
def test_word_order_and_negation_decide(sentiment, embedding_dim):
    (X, y), (X_test, y_test) = sentiment
    bow = make_pipeline(CountVectorizer(), LogisticRegression(max_iter=1000)).fit(X, y)
    rnn = Pipeline([
        ("enc", TextOneHotEncoder()),
        ("rnn", RNNClassifier("gru", (32,), embedding_dim=embedding_dim,
                              learning_rate_init=0.01, max_iter=10, random_state=0)),
    ]).fit(X, y)
    assert rnn.score(X_test, y_test) >= 0.95
    assert bow.score(X_test, y_test) <= 0.65


TINY = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)


def test_pipeline_on_series_and_column_transformer(sentiment):
    (X, y), _ = sentiment
    X, y = X[:200], y[:200]
    pipe = make_pipeline(TextOneHotEncoder(max_features=50), RNNClassifier(**TINY)).fit(X, y)
    assert pipe.predict(X[:5]).shape == (5,)
    assert pipe[-1].n_features_in_ == len(pipe[0].get_feature_names_out()) <= 51
    frame = pd.DataFrame({"text": X, "stars": np.arange(200)})
    ct = Pipeline([
        ("cols", ColumnTransformer([("enc", TextOneHotEncoder(), "text")])),
        ("rnn", RNNClassifier(**TINY)),
    ]).fit(frame, y)
    np.testing.assert_array_equal(ct.predict_proba(frame), make_pipeline(
        TextOneHotEncoder(), RNNClassifier(**TINY)).fit(X, y).predict_proba(X))
    loaded = pickle.loads(pickle.dumps(ct))
    np.testing.assert_array_equal(loaded.predict_proba(frame), ct.predict_proba(frame))


def test_grid_search_over_encoder_and_network_in_parallel(sentiment):
    (X, y), _ = sentiment
    X, y = X[:120], y[:120]
    pipe = Pipeline([("enc", TextOneHotEncoder()), ("rnn", RNNClassifier(**TINY))])
    grid = GridSearchCV(
        pipe,
        {
            "enc__max_features": [10, 1000],
            "rnn__cell": ["rnn", "gru"],
            "rnn__hidden_layer_sizes": [(3,), (4,)],
            "rnn__embedding_dim": [None, 3],
        },
        cv=2,
        n_jobs=2,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 16
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.predict(X[:3]).shape == (3,)
    assert cross_val_score(pipe, X, y, cv=3).shape == (3,)


def test_tagger_on_pretokenised_sentences_keeps_labels_aligned():
    sentences, tags = make_entity_sentences(300, random_state=0)
    sentences, tags = sentences + [[]], tags + [[]]  # an empty sentence stays empty
    pipe = make_pipeline(TextOneHotEncoder(), RNNSequenceTagger(
        "gru", (16,), bidirectional=True, embedding_dim=8, learning_rate_init=0.02,
        max_iter=15, random_state=0))
    pipe.fit(sentences[:250], tags[:250])
    pred = pipe.predict(sentences)
    assert [len(p) for p in pred] == [len(s) for s in sentences]
    assert pipe.score(sentences[250:], tags[250:]) >= 0.9
    unseen = pipe.predict([["zebedee", "teddy", "bears"]])[0]
    assert unseen.shape == (3,)


def test_token_input_to_regressor_and_embedding_attribute(sentiment):
    (X, _), _ = sentiment
    enc = TextOneHotEncoder(max_features=30).fit(X[:100])
    tokens = enc.transform(X[:100])
    target = np.array([len(t) for t in tokens], dtype=float)
    reg = RNNRegressor(embedding_dim=5, **TINY).fit(tokens, target)
    vocab = len(enc.get_feature_names_out())
    assert reg.embedding_.shape == (vocab, 5)
    assert reg.recurrent_weights_[0][0]["weight_ih"].shape == (4 * 4, 5)
    plain = RNNRegressor(**TINY).fit(tokens, target)
    assert plain.embedding_ is None
    assert plain.recurrent_weights_[0][0]["weight_ih"].shape == (4 * 4, vocab)
    with pytest.raises(ValueError, match="token sequences"):
        plain.predict([np.ones((3, vocab))])
    with pytest.raises(ValueError, match="embedding_dim"):
        RNNRegressor(embedding_dim=3, **TINY).fit([np.ones((2, 2))] * 4, np.arange(4.0))
