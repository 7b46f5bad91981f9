"""First-fit cost a user pays: Numba compilation with an empty and with a warm cache.

Each measurement runs in a fresh Python process: ``import skrnn`` and a first
fit + predict of a small model of each cell type (64 sequences of 5-20
steps, hidden 32, batches of 32: as in a real fit, an LSTM's batches run in
two parts, and so compile its parts' one-call kernel), first with an empty
``NUMBA_CACHE_DIR`` (cold), then again with the cache it left (warm). Also
reports ``import sklearn.base`` alone, the floor any sklearn estimator pays.

Run:  python benchmarks/bench_compile.py [--cells rnn lstm gru]
"""

import argparse
import os
import subprocess
import sys
import tempfile

from _harness import result_row

SCRIPT = """
import time
t0 = time.perf_counter()
import numpy as np, warnings
import skrnn
t1 = time.perf_counter()
warnings.simplefilter("ignore")
rng = np.random.RandomState(0)
X = [rng.normal(size=(rng.randint(5, 21), 2)) for _ in range(64)]
y = np.arange(64) % 2
skrnn.RNNClassifier({cell!r}, (32,), batch_size=32, max_iter=2, random_state=0).fit(X, y).predict(X)
t2 = time.perf_counter()
print(f"{{t1 - t0:.2f}} {{t2 - t1:.2f}}")
"""

# The targets: a cold first fit (compilation) within 20 s, and with a
# warm cache ``import skrnn`` + first fit within 1.5 s.
COLD_FIT_S, WARM_TOTAL_S = 20.0, 1.5


def run_fresh(code, cache):
    """(import s, first fit s) printed by ``code`` in a fresh process using ``cache``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


def sklearn_import_s():
    """Seconds ``import sklearn.base`` takes in a fresh process (-X importtime)."""
    base = subprocess.run([sys.executable, "-X", "importtime", "-c", "import sklearn.base"],
                          capture_output=True, text=True, check=True).stderr.splitlines()[-1]
    return int(base.split("|")[1]) / 1e6


def compile_row(cell, label, imp, fit):
    """One (cell, cache) row; the target depends on the cache state."""
    total = imp + fit
    if label == "cold":
        met, text = fit <= COLD_FIT_S, f"first fit <= {COLD_FIT_S:g} s"
    else:
        met, text = total <= WARM_TOTAL_S, f"import + first fit <= {WARM_TOTAL_S:g} s"
    return result_row(f"{cell}, {label} cache: import + first fit + predict", total, "s",
                      has_torch=False, met=met, target_text=text, cell=cell, cache=label,
                      import_s=imp, first_fit_s=fit,
                      note=f"import {imp:.2f} s, first fit + predict {fit:.2f} s")


def run(cells=("rnn", "lstm", "gru"), report=None):
    """Measure the import floor, then cold and warm first fits per cell; return the rows.

    ``report(row)`` is called as each row is ready.
    """
    rows = [result_row("import sklearn.base alone (the floor)", sklearn_import_s(), "s",
                       has_torch=False)]
    if report is not None:
        report(rows[-1])
    for cell in cells:
        with tempfile.TemporaryDirectory() as cache:
            for label in ("cold", "warm"):
                imp, fit = run_fresh(SCRIPT.format(cell=cell), cache)
                rows.append(compile_row(cell, label, float(imp), float(fit)))
                if report is not None:
                    report(rows[-1])
    return rows


def print_row(row):
    """This script's historic lines: the import floor, then one line per (cell, cache)."""
    if "cell" not in row:
        print(f"import sklearn.base alone: {row['skrnn']:.2f} s")
        print(f"{'cell':>5} {'cache':>5} {'import s':>9} {'first fit s':>12}")
        return
    print(f"{row['cell']:>5} {row['cache']:>5} {row['import_s']:>9.2f} "
          f"{row['first_fit_s']:>12.2f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    args = parser.parse_args()
    run(args.cells, report=print_row)


if __name__ == "__main__":
    main()
