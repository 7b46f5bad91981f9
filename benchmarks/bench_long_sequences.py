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

from skrnn import RNNRegressor


def measure(fn):
    tracemalloc.start()
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--bptt", type=int, default=200)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)
    params = dict(cell="gru", hidden_layer_sizes=(16,), max_iter=1, random_state=0)
    # Warm up the kernels so timings exclude compilation.
    RNNRegressor(**params, bptt_steps=5).fit([rng.normal(size=(20, 1))] * 2, [0.0, 1.0])

    for steps, bptt in ((args.steps, args.bptt), (args.steps // 10, None), (args.steps // 10, args.bptt)):
        X = [rng.normal(size=(steps, 1)).astype(np.float32) for _ in range(args.n)]
        y = rng.normal(size=args.n)
        est = RNNRegressor(**params, bptt_steps=bptt)
        fit_s, fit_mb = measure(lambda est=est, X=X, y=y: est.fit(X, y))
        pred_s, pred_mb = measure(lambda est=est, X=X: est.predict(X))
        data_mb = sum(x.nbytes for x in X) / 1e6
        print(f"T={steps:>7} bptt_steps={str(bptt):>5}: fit {fit_s:6.2f}s peak {fit_mb:7.1f} MB | "
              f"predict {pred_s:5.2f}s peak {pred_mb:6.1f} MB | input itself {data_mb:.1f} MB",
              flush=True)


if __name__ == "__main__":
    main()
