"""How long one library's training step slows the other's in the same process.

After one step of library A, times each of the next ``--calls`` steps of
library B, both ways round, and prints the median of each call position
over ``--repeats`` rounds.  This is why the harness (``_harness.SETTLE_S``)
runs the side about to be timed for a while before timing it: torch's
OpenMP workers spin after each torch call, on the core that skrnn's second
shard needs, and slowed skrnn's calls for 10-25 ms of them.  A diagnostic,
not part of ``run_all.py``; it needs torch.

Run:  python benchmarks/bench_interference.py [--configs lstm:64 lstm:128] [--calls 10]
"""

import argparse
import sys
import time

import numpy as np
from _harness import load_torch
from bench_training_step import skrnn_step, torch_step


def calls_after(first, then, calls, repeats):
    """Median time (ms) of each of ``calls`` calls of ``then`` right after one of ``first``."""
    times = np.empty((repeats, calls))
    for _ in range(3):
        first()
        then()
    for r in range(repeats):
        first()
        for k in range(calls):
            start = time.perf_counter()
            then()
            times[r, k] = time.perf_counter() - start
    return np.median(times, axis=0) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["lstm:32", "lstm:64", "lstm:128",
                                                         "gru:64", "rnn:128"])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()
    if load_torch() is None:
        sys.exit("bench_interference.py compares the two libraries: pip install torch==2.13.0")
    print("batch 32, T 50, 8 features; ms per call, the 1st call right after the other side's step")
    for config in args.configs:
        cell, hidden = config.split(":")
        ours = skrnn_step(cell, int(hidden), 32, 50, 8, np.random.RandomState(0))
        theirs = torch_step(cell, int(hidden), 32, 50, 8)
        for label, first, then in (("skrnn after torch", theirs, ours),
                                   ("torch after skrnn", ours, theirs)):
            row = calls_after(first, then, args.calls, args.repeats)
            print(f"{config:>9} {label}: " + " ".join(f"{v:.2f}" for v in row), flush=True)


if __name__ == "__main__":
    main()
