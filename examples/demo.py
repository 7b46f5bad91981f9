"""skrnn in one minute: train and predict on generated ragged sequences.

Run from the project root:  python examples/demo.py
"""

import time

import numpy as np
from sklearn.model_selection import train_test_split

from skrnn import RNNClassifier, RNNRegressor, RNNSequenceTagger

rng = np.random.RandomState(0)

# %% Many-to-one classification: the label is the sign of the FIRST step, read
# after up to 59 noisy steps. Sequences have different lengths; nothing is padded.
X = []
for length in rng.randint(5, 60, size=1200):
    x = np.column_stack([rng.normal(size=length), np.eye(length)[0]])  # value, start flag
    X.append(x)
y = np.array(["up" if x[0, 0] > 0 else "down" for x in X])
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

start = time.perf_counter()
clf = RNNClassifier("gru", hidden_layer_sizes=(16,), learning_rate_init=0.02,
                    max_iter=15, random_state=0)
clf.fit(X_train, y_train)
print(f"RNNClassifier (GRU): test accuracy {clf.score(X_test, y_test):.3f} "
      f"in {time.perf_counter() - start:.1f}s (first run includes Numba compilation)")
print("  predictions:", clf.predict(X_test[:5]), "truth:", y_test[:5])

# %% Many-to-one regression: the next value of a noisy sine from a window.
windows, targets = [], []
for _ in range(600):
    t0, n = rng.uniform(0, 6.28), rng.randint(10, 30)
    steps = t0 + 0.3 * np.arange(n + 1)
    series = np.sin(steps) + 0.05 * rng.normal(size=n + 1)
    windows.append(series[:-1])
    targets.append(np.sin(steps[-1]))
reg = RNNRegressor("lstm", hidden_layer_sizes=(16,), learning_rate_init=0.01,
                   max_iter=20, random_state=0)
reg.fit(windows[:500], targets[:500])
print(f"RNNRegressor (LSTM): test R^2 {reg.score(windows[500:], targets[500:]):.3f}")

# %% Many-to-many tagging: each step's tag depends on the NEXT step, so the
# tagger must read backwards too (bidirectional).
tokens = [rng.randint(0, 4, size=rng.randint(3, 12)) for _ in range(400)]
X_tag = [np.eye(4)[t] for t in tokens]
y_tag = [np.array([("big-next" if t[i + 1] >= 2 else "small-next") for i in range(len(t) - 1)]
                  + ["last"]) for t in tokens]
tagger = RNNSequenceTagger("gru", hidden_layer_sizes=(16,), bidirectional=True,
                           learning_rate_init=0.01, max_iter=20, random_state=0)
tagger.fit(X_tag[:300], y_tag[:300])
print(f"RNNSequenceTagger (bidirectional GRU): per-step accuracy "
      f"{tagger.score(X_tag[300:], y_tag[300:]):.3f}")
print("  tokens:", tokens[300].tolist())
print("  tags:  ", tagger.predict(X_tag[300:301])[0].tolist())
