"""Numerical robustness and determinism under concurrency."""

import numpy as np
import pytest
from joblib import Parallel, delayed, parallel_backend
from sklearn.base import clone

from skrnn import RNNClassifier, RNNRegressor
from skrnn._kernels._output import binary_log_loss, sigmoid, softmax, softmax_cross_entropy


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_and_probabilities_stay_finite_at_extreme_logits(dtype):
    big = np.finfo(dtype).max / 4
    z = np.array([-big, -1e4, -50, 0, 50, 1e4, big], dtype=dtype)
    y = np.array([1, 1, 0, 1, 1, 0, 0], dtype=dtype)
    w = np.ones_like(z)
    dz = np.empty_like(z)
    loss = binary_log_loss(z, y, w, dz)
    assert np.isfinite(loss) and np.all(np.isfinite(dz))
    # Confidently right costs ~0, confidently wrong costs |z|.
    assert dz[4] == pytest.approx(0, abs=1e-12) and dz[0] == pytest.approx(-1)
    p = np.empty_like(z)
    sigmoid(z, p)
    assert np.all((p >= 0) & (p <= 1)) and p[0] == 0 and p[-1] == 1
    logits = np.array([[big, 0, -big], [1e4, 1e4, 1e4], [-1e4, 0, 1e4]], dtype=dtype)
    labels = np.array([2, 0, 2])
    d = np.empty_like(logits)
    ce = softmax_cross_entropy(logits, labels, np.ones(3, dtype=dtype), d)
    assert np.isfinite(ce) and np.all(np.isfinite(d))
    proba = np.empty_like(logits)
    softmax(logits, proba)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert proba[1] == pytest.approx(np.full(3, 1 / 3))


def _data(seed=0, n=40):
    rng = np.random.RandomState(seed)
    X = [rng.normal(size=(rng.randint(2, 9), 3)) for _ in range(n)]
    y = np.array([int(x[0, 0] > 0) for x in X])
    return X, y


def test_float32_and_float64_both_train_and_agree_roughly():
    X, y = _data()
    m64 = RNNClassifier("lstm", (6,), max_iter=20, learning_rate_init=0.02, random_state=0)
    m64.fit(X, y)
    m32 = clone(m64).fit([x.astype(np.float32) for x in X], y)
    assert m32.coef_.dtype == np.float32 and m64.coef_.dtype == np.float64
    assert m32.loss_curve_[-1] < m32.loss_curve_[0] and m64.loss_curve_[-1] < m64.loss_curve_[0]
    agree = np.mean(m32.predict(X) == m64.predict(X))
    assert agree >= 0.9


def test_refits_are_bit_identical_in_threads_and_processes():
    X, y = _data()
    est = RNNRegressor("gru", (5,), max_iter=3, random_state=0)
    reference = clone(est).fit(X, y.astype(float)).predict(X)

    def fit_predict():
        return clone(est).fit(X, y.astype(float)).predict(X)

    with parallel_backend("threading", n_jobs=2):
        threaded = Parallel()(delayed(fit_predict)() for _ in range(4))
    processes = Parallel(n_jobs=2)(delayed(fit_predict)() for _ in range(2))
    for result in threaded + processes:
        np.testing.assert_array_equal(result, reference)


def test_weights_identical_across_numba_and_blas_thread_counts(tmp_path):
    """Shards and split GEMMs are fixed by the data, BLAS is single-threaded inside
    fit, so thread settings cannot change results; checked in fresh processes on a
    model whose batches are sharded (64 sequences in two shards; the last 32 cut in two
    for their 64 hidden units) and whose GEMMs are split."""
    import os
    import subprocess
    import sys

    script = (
        "import numpy as np, warnings, hashlib\n"
        "warnings.simplefilter('ignore')\n"
        "from skrnn import RNNClassifier\n"
        "rng = np.random.RandomState(0)\n"
        "X = [rng.normal(size=(rng.randint(2, 30), 3)) for _ in range(160)]\n"
        "y = np.array([int(x[0, 0] > 0) for x in X])\n"
        "clf = RNNClassifier('lstm', (64, 8), max_iter=3, batch_size=64,\n"
        "                    random_state=0).fit(X, y)\n"
        "p = clf.predict_proba(X)\n"
        "print(hashlib.sha256(clf._theta.tobytes() + p.tobytes()).hexdigest())\n"
    )
    digests = set()
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads, OMP_NUM_THREADS=threads,
                   OPENBLAS_NUM_THREADS=threads)
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=300, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1
