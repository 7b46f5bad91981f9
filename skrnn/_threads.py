"""Threads: one BLAS thread per call, and shards of a batch run side by side.

The kernels' per-step products go through Numba's BLAS (SciPy's OpenBLAS)
while the hoisted GEMMs go through NumPy's own OpenBLAS.  Alternating
between two multi-threaded BLAS libraries makes their spinning worker
threads fight for the cores: on a 2-core machine an LSTM training step with
64-128 hidden units ran 2.5-3x slower than with one BLAS thread (measured in
benchmarks/bench_training_step.py).  So BLAS runs single-threaded inside
``fit``/``predict``, and skrnn's own parallelism is over *shards*: fixed
ranges of a batch's sequences whose recurrences are independent
(docs/internals.md, "Shards").

Shards run on a small pool of Python threads, not Numba's ``prange``: the
kernels release the GIL, and Python threads need no threading layer (GNU
OpenMP aborts a process forked after using it, and Numba's fallback
``workqueue`` layer aborts when two threads launch kernels at once, as
joblib's threading backend does).  The number of threads is
``numba.config.NUMBA_NUM_THREADS``: all cores by default, the share joblib
gives a worker process (it sets ``NUMBA_NUM_THREADS`` there), or what the
user sets in that environment variable.  Results never depend on it: the
shards are fixed by the batch, and the thread count only decides how many
run at once.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numba

# Numba's np.dot calls SciPy's BLAS; load it now so the limit reaches it even
# in a first fit, whose kernels compile (and load it) inside the context.
import scipy.linalg  # noqa: F401
from threadpoolctl import ThreadpoolController

__all__ = ["single_threaded_blas", "run_shards", "run_halves", "n_threads"]

_controller = None
_pool = None
_pool_lock = threading.Lock()


@contextmanager
def single_threaded_blas():
    """Context manager limiting every loaded BLAS library to one thread.

    The controller scans the loaded libraries once (about 5 ms, which would
    dominate predicting one sequence if done per call) and is reused; the
    limit is then a get and two sets per library through ctypes, where
    ``ThreadpoolController.limit`` spent ~25 us of Python per call.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController().select(user_api="blas")
    libraries = _controller.lib_controllers
    previous = [lib.num_threads for lib in libraries]
    for lib in libraries:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libraries, previous):
            lib.set_num_threads(n)


def n_threads():
    """How many shards may run at once."""
    return max(1, int(numba.config.NUMBA_NUM_THREADS))


def _get_pool():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=n_threads() - 1, thread_name_prefix="skrnn")
        return _pool


def _forget_pool():
    # A forked child inherits the pool object (and maybe a held lock) but
    # not the pool's threads.
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def run_shards(task, n_shards):
    """Call ``task(k)`` for every shard ``k`` and wait for all of them.

    ``task`` must release the GIL for most of its time (a Numba ``nogil``
    kernel or a large NumPy operation) and write only its shard's part of the
    outputs.  Shards are dealt round-robin to ``min(n_threads(), n_shards)``
    lanes; the caller's thread runs lane 0 and the pool the others.
    Exceptions propagate.
    """
    lanes = min(n_threads(), n_shards)
    pool = _get_pool() if lanes > 1 else None

    def lane(first):
        for k in range(first, n_shards, lanes):
            task(k)

    if pool is None:
        for k in range(n_shards):
            task(k)
        return
    futures, here = [], [0]
    for first in range(1, lanes):
        try:
            futures.append(pool.submit(lane, first))
        except RuntimeError:  # the interpreter is shutting down: run it here
            here.append(first)
    try:
        for first in here:
            lane(first)
    finally:
        for future in futures:
            future.result()


# Elementwise updates of vectors at least this long run as two halves side by
# side; elementwise results do not depend on the split at all.
HALVES_MIN_SIZE = 1 << 19


def run_halves(task, size):
    """Call ``task(lo, hi)`` over ``[0, size)``, as two halves in parallel when long.

    For elementwise, memory-bound updates (Adam over a 10,000-token
    ``weight_ih``: ~140 MB of traffic a step), where a second core adds
    memory bandwidth.
    """
    bounds = (0, size // 2, size) if size >= HALVES_MIN_SIZE else (0, size)
    run_shards(lambda k: task(bounds[k], bounds[k + 1]), len(bounds) - 1)
