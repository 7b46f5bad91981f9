"""First-fit cost a user pays: Numba compilation with an empty and with a warm cache.

Each measurement runs in a fresh Python process: ``import skrnn`` and a first
fit + predict of a tiny model of each cell type, first with an empty
``NUMBA_CACHE_DIR`` (cold), then again with the cache it left (warm). Also
reports ``import sklearn.base`` alone, the floor any sklearn estimator pays.

Run:  python benchmarks/bench_compile.py
"""

import os
import subprocess
import sys
import tempfile

SCRIPT = """
import time
t0 = time.perf_counter()
import numpy as np, warnings
import skrnn
t1 = time.perf_counter()
warnings.simplefilter("ignore")
rng = np.random.RandomState(0)
X = [rng.normal(size=(rng.randint(2, 6), 2)) for _ in range(20)]
y = np.arange(20) % 2
skrnn.RNNClassifier({cell!r}, (4,), max_iter=2, random_state=0).fit(X, y).predict(X)
t2 = time.perf_counter()
print(f"{{t1 - t0:.2f}} {{t2 - t1:.2f}}")
"""


def run(code, cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


def main():
    base = subprocess.run([sys.executable, "-X", "importtime", "-c", "import sklearn.base"],
                          capture_output=True, text=True, check=True).stderr.splitlines()[-1]
    print(f"import sklearn.base alone: {int(base.split('|')[1]) / 1e6:.2f} s")
    print(f"{'cell':>5} {'cache':>5} {'import s':>9} {'first fit s':>12}")
    for cell in ("rnn", "lstm", "gru"):
        with tempfile.TemporaryDirectory() as cache:
            for label in ("cold", "warm"):
                imp, fit = run(SCRIPT.format(cell=cell), cache)
                print(f"{cell:>5} {label:>5} {imp:>9} {fit:>12}", flush=True)


if __name__ == "__main__":
    main()
