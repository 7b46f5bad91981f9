"""Training time against total steps (n sequences x T steps): is it linear?

Times one epoch of the public estimator, ``RNNRegressor(hidden_layer_sizes=(32,),
max_iter=1, batch_size=32)`` on float32 adding-problem data (2 features), over
two sweeps: the sequence length T with n fixed, and the number of sequences n
with T fixed.  Each fit's time covers everything a user's ``fit`` pays per
epoch (input validation and copy, packing, forward, BPTT, Adam), which is why
the public estimator is timed rather than the internal step: a cost that grows
faster than the steps anywhere in that path shows up here.  Every point is a
full epoch over all n sequences (nothing extrapolated); points under a second
get one untimed fit, then the median of ``--repeats`` fits.  For each sweep the exponent ``a`` of
``time ~ steps**a`` is fitted by least squares in log-log; linear is a = 1.

Run:  python benchmarks/bench_scaling.py [--cells gru lstm] [--lengths 50 200 1000 5000]
          [--sizes 1000 10000 100000] [--fixed-n 1000] [--fixed-T 50]
"""

import argparse
import time
import warnings

import numpy as np
from _harness import result_row

from skrnn import RNNRegressor
from skrnn.datasets import make_adding_problem

HIDDEN, BATCH = 32, 32
# "Linear in total steps": the fitted exponent within this distance of 1.
EXPONENT_TOLERANCE = 0.1
# Points faster than this are repeated (median kept) to damp noise.
REPEAT_BELOW_S = 1.0


def make_data(n, steps):
    """Adding-problem data: float32 X of shape (n, steps, 2) and y."""
    X, y = make_adding_problem(n_samples=n, n_steps=steps, random_state=0)
    return X.astype(np.float32), y


def epoch_seconds(cell, X, y, repeats):
    """Wall time of a one-epoch ``fit``: one fit, or for short points a median.

    A point faster than ``REPEAT_BELOW_S`` is fitted once untimed (first-touch
    allocations and caches made its first fit up to 2x slower than the next
    ones) and then ``repeats`` times, keeping the median.
    """
    est = RNNRegressor(cell=cell, hidden_layer_sizes=(HIDDEN,), max_iter=1,
                       batch_size=BATCH, random_state=0, tol=0.0)

    def once():
        start = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - start

    first = once()
    if first >= REPEAT_BELOW_S:
        return first  # noise is small relative to a long point
    return float(np.median([once() for _ in range(repeats)]))


def fit_power_law(steps, seconds):
    """``(a, b)`` of the least-squares line log(seconds) = a log(steps) + b."""
    slope, intercept = np.polyfit(np.log(steps), np.log(seconds), 1)
    return float(slope), float(intercept)


def grid(lengths, sizes, fixed_n, fixed_T):
    """The (sweep, n, T) points: T varies at n=fixed_n, then n varies at T=fixed_T."""
    return ([("T", fixed_n, t) for t in lengths]
            + [("n", n, fixed_T) for n in sizes])


def run(cells=("gru", "lstm"), lengths=(50, 200, 1000, 5000), sizes=(1000, 10000, 100000),
        fixed_n=1000, fixed_T=50, repeats=3, echo=None):
    """Time every grid point per cell, fit each sweep's exponent; return all rows.

    One row per (cell, sweep, point) with ``sweep``/``n``/``T``/``total_steps``,
    then one row per (cell, sweep) holding the fitted exponent
    (``kind='exponent'``).  ``echo(line)`` receives progress lines.
    """
    echo = echo or (lambda line: None)
    warnings.simplefilter("ignore")  # max_iter=1 always "fails to converge"
    points = grid(lengths, sizes, fixed_n, fixed_T)
    rows = []
    for cell in cells:
        epoch_seconds(cell, *make_data(64, 10), 1)  # compile / warm up outside the timings
        measured = {}  # the point shared by both sweeps is timed once
        for sweep, n, t in points:
            if (n, t) not in measured:
                X, y = make_data(n, t)
                measured[n, t] = epoch_seconds(cell, X, y, repeats)
                del X, y
            seconds = measured[n, t]
            steps = n * t
            echo(f"{cell:>4} sweep {sweep}: n={n:>6} T={t:>5} steps={steps:>9,} "
                 f"{seconds:7.3f} s  {1e6 * seconds / steps:6.3f} us/step")
            rows.append(result_row(
                f"{cell}, {sweep} sweep: n={n}, T={t}", seconds, "s", has_torch=False,
                note=f"{steps:,} steps, {1e6 * seconds / steps:.3f} us per step",
                kind="point", cell=cell, sweep=sweep, n=n, T=t, total_steps=steps,
                us_per_step=1e6 * seconds / steps))
        rows += exponent_rows(cell, rows, echo)
    return rows


def exponent_rows(cell, rows, echo):
    """One row per sweep of ``cell`` with the fitted exponent and its check."""
    out = []
    for sweep, fixed in (("T", "n"), ("n", "T")):
        pts = [r for r in rows if r.get("kind") == "point" and r["cell"] == cell
               and r["sweep"] == sweep]
        if len(pts) < 2:
            continue
        a, b = fit_power_law([r["total_steps"] for r in pts], [r["skrnn"] for r in pts])
        lo, hi = 1 - EXPONENT_TOLERANCE, 1 + EXPONENT_TOLERANCE
        echo(f"{cell:>4} sweep {sweep} ({fixed}={pts[0][fixed]}): time ~ steps^{a:.3f}")
        out.append(result_row(
            f"{cell}, exponent a of time ~ steps^a, {sweep} varies ({fixed}={pts[0][fixed]})",
            a, "", has_torch=False, met=lo <= a <= hi, target_text=f"{lo:g} <= a <= {hi:g}",
            kind="exponent", cell=cell, sweep=sweep, exponent=a, log_intercept=b,
            range_steps=[pts[0]["total_steps"], pts[-1]["total_steps"]]))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=["gru", "lstm"])
    parser.add_argument("--lengths", type=int, nargs="+", default=[50, 200, 1000, 5000])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--fixed-n", type=int, default=1000)
    parser.add_argument("--fixed-T", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("one full epoch per point (no extrapolation); points under "
          f"{REPEAT_BELOW_S:g} s: median of {args.repeats} fits after an untimed one")
    run(args.cells, args.lengths, args.sizes, args.fixed_n, args.fixed_T, args.repeats,
        echo=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
