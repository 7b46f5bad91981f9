"""Prediction latency and throughput of skrnn vs PyTorch (LSTM, 8 features, T=50, float32).

* one sequence through the public ``predict_proba`` (validation included) vs
  torch's raw module call (``nn.LSTM`` + ``nn.Linear`` + sigmoid, no_grad);
* 10,000 sequences: ``predict_proba`` vs torch's batched forward.

Run:  python benchmarks/bench_predict.py [--hidden 64] [--repeats 200]
torch is optional: without it only skrnn is timed.
"""

import argparse
import warnings

import numpy as np
from _harness import interleaved_medians, load_torch, result_row

from skrnn import RNNClassifier

# Speed-up over torch the issue asks for.
ONE_TARGET, BATCH_TARGET = 2.0, 1.5


def torch_forward_fn(torch, hidden):
    """torch's raw forward (LSTM + Linear + sigmoid, no_grad) on a tensor."""
    lstm = torch.nn.LSTM(8, hidden, batch_first=True)
    head = torch.nn.Linear(hidden, 1)

    def forward(x):
        with torch.no_grad():
            _, (h, _) = lstm(x)
            return torch.sigmoid(head(h[-1]))

    return forward


def run(hidden=64, steps=50, repeats=200, n_batch=10000, torch=None, report=None):
    """Time one-sequence and batch prediction; return the two rows.

    ``torch`` is the module from ``load_torch()`` (None: skrnn only);
    ``report(row)`` is called as each row is ready.
    """
    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_batch, steps, 8)).astype(np.float32)
    y = rng.randint(0, 2, n_batch)
    clf = RNNClassifier("lstm", (hidden,), max_iter=1, random_state=0).fit(X[:256], y[:256])
    forward = None if torch is None else torch_forward_fn(torch, hidden)
    config = {"hidden": hidden, "steps": steps, "features": 8}
    rows = []

    one = X[:1]
    one_t = None if forward is None else torch.tensor(one)
    ours, theirs = interleaved_medians(
        lambda: clf.predict_proba(one), None if forward is None else lambda: forward(one_t),
        repeats)
    rows.append(result_row(
        "predict, one sequence: public predict_proba vs raw module call", ours * 1e6, "us",
        torch=None if theirs is None else theirs * 1e6, target=(">=", ONE_TARGET),
        n_sequences=1, repeats=repeats, **config))
    if report is not None:
        report(rows[-1])

    all_t = None if forward is None else torch.tensor(X)
    ours, theirs = interleaved_medians(
        lambda: clf.predict_proba(X), None if forward is None else lambda: forward(all_t), 5)
    rows.append(result_row(
        f"predict, {n_batch} sequences: predict_proba vs batched forward", ours, "s",
        torch=theirs, target=(">=", BATCH_TARGET), n_sequences=n_batch, repeats=5, **config))
    if report is not None:
        report(rows[-1])
    return rows


def print_row(row):
    """This script's historic line format; n/a when torch is missing."""
    missing = row["torch"] is None
    ratio = "n/a" if missing else f"{row['ratio']:.2f}x"
    target = f"(target >= {row['target_value']:g}x)"
    if row["n_sequences"] == 1:
        theirs = "n/a" if missing else f"{row['torch']:.0f} us"
        print(f"one sequence: skrnn predict_proba {row['skrnn']:.0f} us, torch module call "
              f"{theirs} -> {ratio} {target}")
    else:
        theirs = "n/a" if missing else f"{row['torch']:.2f} s"
        print(f"{row['n_sequences']} sequences: skrnn {row['skrnn']:.2f} s, torch {theirs} -> "
              f"{ratio} {target}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--n-batch", type=int, default=10000)
    args = parser.parse_args()
    torch = load_torch()
    if torch is None:
        print("torch is not installed: timing skrnn only.")
    run(args.hidden, args.steps, args.repeats, args.n_batch, torch=torch, report=print_row)


if __name__ == "__main__":
    main()
