"""Prediction latency and throughput of skrnn vs PyTorch (LSTM, 8 features, T=50, float32).

* one sequence through the public ``predict_proba`` (validation included) vs
  torch's raw module call (``nn.LSTM`` + ``nn.Linear`` + sigmoid, no_grad);
* 10,000 sequences: ``predict_proba`` vs torch's batched forward.

Run:  python benchmarks/bench_predict.py [--hidden 64] [--repeats 200]
Requires torch.
"""

import argparse
import time
import warnings

import numpy as np

from skrnn import RNNClassifier


def median_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--n-batch", type=int, default=10000)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(args.n_batch, args.steps, 8)).astype(np.float32)
    y = rng.randint(0, 2, args.n_batch)
    clf = RNNClassifier("lstm", (args.hidden,), max_iter=1, random_state=0).fit(X[:256], y[:256])
    lstm = torch.nn.LSTM(8, args.hidden, batch_first=True)
    head = torch.nn.Linear(args.hidden, 1)

    def torch_forward(x):
        with torch.no_grad():
            _, (h, _) = lstm(x)
            return torch.sigmoid(head(h[-1]))

    one, one_t = X[:1], torch.tensor(X[:1])
    ours = median_time(lambda: clf.predict_proba(one), args.repeats)
    theirs = median_time(lambda: torch_forward(one_t), args.repeats)
    print(f"one sequence: skrnn predict_proba {ours * 1e6:.0f} us, torch module call "
          f"{theirs * 1e6:.0f} us -> {theirs / ours:.2f}x (target >= 2x)")
    all_t = torch.tensor(X)
    ours = median_time(lambda: clf.predict_proba(X), 3)
    theirs = median_time(lambda: torch_forward(all_t), 3)
    print(f"{args.n_batch} sequences: skrnn {ours:.2f} s, torch {theirs:.2f} s -> "
          f"{theirs / ours:.2f}x (target >= 1.5x)")


if __name__ == "__main__":
    main()
