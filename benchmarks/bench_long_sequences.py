"""Training and predicting on very long sequences: memory set by ``bptt_steps``, not by T.

Fits a GRU (16 hidden units) for one epoch on 4 sequences of 100,000 steps
with ``bptt_steps=200``, then predicts them; reports time and the peak of
memory allocated through NumPy during each call (tracemalloc), next to the
same measurement on sequences 10x shorter without truncation, which grows
with T.

Run:  python benchmarks/bench_long_sequences.py [--steps 100000]
"""

import argparse
import time
import tracemalloc
import warnings

import numpy as np
from _harness import result_row

from skrnn import RNNRegressor


def measure(fn):
    tracemalloc.start()
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 1e6


def run(steps=100_000, n=4, bptt=200, echo=None):
    """Fit and predict long sequences with and without truncation; one row per config.

    ``echo(line)`` receives this script's human-readable lines as they come.
    """
    echo = echo or (lambda line: None)
    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)
    params = dict(cell="gru", hidden_layer_sizes=(16,), max_iter=1, random_state=0)
    # Warm up the kernels so timings exclude compilation.
    RNNRegressor(**params, bptt_steps=5).fit([rng.normal(size=(20, 1))] * 2, [0.0, 1.0])

    rows = []
    for length, size in ((steps, bptt), (steps // 10, None), (steps // 10, bptt)):
        X = [rng.normal(size=(length, 1)).astype(np.float32) for _ in range(n)]
        y = rng.normal(size=n)
        est = RNNRegressor(**params, bptt_steps=size)
        fit_s, fit_mb = measure(lambda est=est, X=X, y=y: est.fit(X, y))
        pred_s, pred_mb = measure(lambda est=est, X=X: est.predict(X))
        data_mb = sum(x.nbytes for x in X) / 1e6
        echo(f"T={length:>7} bptt_steps={size!s:>5}: fit {fit_s:6.2f}s peak {fit_mb:7.1f} MB | "
             f"predict {pred_s:5.2f}s peak {pred_mb:6.1f} MB | input itself {data_mb:.1f} MB")
        rows.append(result_row(
            f"fit, T={length}, bptt_steps={size}", fit_s, "s", has_torch=False,
            note=f"fit peak {fit_mb:.1f} MB; predict {pred_s:.2f} s, peak {pred_mb:.1f} MB; "
                 f"input {data_mb:.1f} MB",
            steps=length, n=n, bptt_steps=size, fit_peak_mb=fit_mb, predict_s=pred_s,
            predict_peak_mb=pred_mb, input_mb=data_mb))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--bptt", type=int, default=200)
    args = parser.parse_args()
    run(args.steps, args.n, args.bptt, echo=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
