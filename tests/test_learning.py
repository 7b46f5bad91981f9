"""Learning quality: the models learn what sequence models must learn.

Marked slow (seconds to a minute each); CI runs them.
"""

import numpy as np
import pytest

from skrnn import RNNClassifier, RNNRegressor, RNNSequenceTagger

pytestmark = pytest.mark.slow


def first_step_task(n, rng, max_len=100):
    """Label = sign of the value seen at the first step, read after up to 99 more steps.

    Feature 0 holds the value at the first step (0 afterwards), feature 1
    flags the first step, feature 2 is N(0, 1) noise at every step: the model
    must carry one number through up to 100 steps of distraction.
    """
    lengths = rng.randint(10, max_len + 1, size=n)
    X = []
    for t in lengths:
        x = np.zeros((t, 3))
        x[0, 0] = rng.normal()
        x[0, 1] = 1.0
        x[:, 2] = rng.normal(size=t)
        X.append(x)
    y = np.array([int(x[0, 0] > 0) for x in X])
    return X, y


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_remembers_first_step_over_100_steps(cell):
    rng = np.random.RandomState(0)
    X, y = first_step_task(1000, rng)
    X_test, y_test = first_step_task(300, rng)
    # Early stopping with a patience as long as the run keeps the best epoch.
    clf = RNNClassifier(cell, (16,), learning_rate_init=0.01, max_iter=30,
                        early_stopping=True, n_iter_no_change=30, random_state=0)
    clf.fit(X, y)
    assert max(len(x) for x in X) == 100
    assert clf.score(X_test, y_test) >= 0.95


def noisy_sine_windows(n, rng):
    starts = rng.uniform(0, 2 * np.pi, size=n)
    lengths = rng.randint(10, 40, size=n)
    X, y = [], []
    for s, t in zip(starts, lengths):
        steps = s + 0.3 * np.arange(t + 1)
        series = np.sin(steps) + 0.05 * rng.normal(size=t + 1)
        X.append(series[:-1])
        y.append(np.sin(steps[-1]))
    return X, np.array(y)


def test_regressor_learns_next_value_of_noisy_sine():
    rng = np.random.RandomState(1)
    X, y = noisy_sine_windows(600, rng)
    X_test, y_test = noisy_sine_windows(200, rng)
    reg = RNNRegressor("gru", (16,), learning_rate_init=0.01, max_iter=30, random_state=0)
    reg.fit(X, y)
    assert reg.score(X_test, y_test) >= 0.95


def next_token_tagging(n, rng):
    """Tag of a step = whether the NEXT step's token is 'high' (last step: 'end')."""
    X, y = [], []
    for _ in range(n):
        t = rng.randint(3, 15)
        tokens = rng.randint(0, 4, size=t)
        onehot = np.eye(4)[tokens]
        tags = [("up" if tokens[i + 1] >= 2 else "down") for i in range(t - 1)] + ["end"]
        X.append(onehot)
        y.append(np.array(tags))
    return X, y


def test_tag_depends_on_next_token_needs_bidirectional():
    rng = np.random.RandomState(2)
    X, y = next_token_tagging(500, rng)
    X_test, y_test = next_token_tagging(200, rng)
    params = dict(cell="gru", hidden_layer_sizes=(16,), learning_rate_init=0.01,
                  max_iter=25, random_state=0)
    bi = RNNSequenceTagger(bidirectional=True, **params).fit(X, y)
    uni = RNNSequenceTagger(bidirectional=False, **params).fit(X, y)
    bi_score, uni_score = bi.score(X_test, y_test), uni.score(X_test, y_test)
    assert bi_score >= 0.95
    # Without the reverse direction the next token is a coin flip (except 'end').
    assert uni_score <= 0.8
    assert bi_score - uni_score >= 0.2
