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

import ctypes
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba

# Numba's np.dot calls SciPy's BLAS; load it now so the limit reaches it even
# in a first fit, whose kernels compile (and load it) inside the context.
import scipy.linalg  # noqa: F401
from threadpoolctl import ThreadpoolController

__all__ = ["single_threaded_blas", "run_shards", "run_chunks", "run_halves", "n_threads"]

_controls = None
_blas_lock = threading.Lock()
_blas_users = 0
_blas_saved = []
_pool = None
_pool_lock = threading.Lock()
# Set while a thread runs a lane of run_chunks: its shards then run inline.
_lane_state = threading.local()


def _openblas_entry_points(lib):
    """``(get, set)`` of an OpenBLAS build's thread count, called directly.

    threadpoolctl (>= 3.6) lets only the first Python thread that limited
    OpenBLAS change it again: from any other thread its limit is silently a
    no-op.  A fit in a worker thread (joblib's threading backend, a web
    server) then ran with multi-threaded BLAS, slower and with different
    last bits.  The library's own entry points act from any thread.
    """
    try:
        dll = ctypes.CDLL(lib.filepath, mode=getattr(os, "RTLD_NOLOAD", 0))
    except OSError:  # not reachable by path: threadpoolctl's own calls will do
        return None
    for prefix, suffix in (("openblas", ""), ("scipy_openblas", ""),
                           ("scipy_openblas", "64_"), ("openblas", "64_")):
        get = getattr(dll, f"{prefix}_get_num_threads{suffix}", None)
        set_ = getattr(dll, f"{prefix}_set_num_threads{suffix}", None)
        if get is not None and set_ is not None:
            get.restype = ctypes.c_int
            set_.argtypes = [ctypes.c_int]
            return get, set_
    return None


def _blas_controls():
    """``(get, set)`` per loaded BLAS library: OpenBLAS directly, others via threadpoolctl."""
    controls = []
    for lib in ThreadpoolController().select(user_api="blas").lib_controllers:
        entry_points = _openblas_entry_points(lib) if lib.internal_api == "openblas" else None
        controls.append(entry_points or (lib.get_num_threads, lib.set_num_threads))
    return controls


class _SingleThreadedBlas:
    """The context manager ``single_threaded_blas()`` returns (see there).

    A class rather than a ``@contextmanager`` generator: entering and leaving
    a generator-based one cost ~1.5 us more, on every predict call (one
    sequence: ~60 us of compute).  Holds no per-use state (the count is
    global), so one instance serves every caller and nested uses.
    """

    __slots__ = ()

    def __enter__(self):
        global _controls, _blas_users, _blas_saved
        with _blas_lock:
            if _controls is None:
                _controls = _blas_controls()
            if _blas_users == 0:
                _blas_saved = [get() for get, _ in _controls]
                for (_, set_), n in zip(_controls, _blas_saved):
                    if n != 1:
                        set_(1)
            _blas_users += 1
        return self

    def __exit__(self, *exc_info):
        global _blas_users
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _restore_blas_threads()
        return False


def _restore_blas_threads():
    """Give every BLAS library back the thread count saved on entering the limit."""
    for (_, set_), n in zip(_controls, _blas_saved):
        if n != 1:
            set_(n)


_SINGLE_THREADED_BLAS = _SingleThreadedBlas()


def single_threaded_blas():
    """Context manager limiting every loaded BLAS library to one thread.

    The libraries are scanned once (about 5 ms, which would dominate
    predicting one sequence if done per call); the limit is then a get and
    two sets per library (none for a library already at one thread).  The
    limit is process-wide, so it is counted: with fits running in several
    threads, the first to enter sets it and the last to leave restores the
    user's setting (restoring it while another fit still ran let that fit's
    GEMMs go multi-threaded and change its last bits).
    """
    return _SINGLE_THREADED_BLAS


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


def _forget_blas_limit():
    # A child forked while another thread was inside fit or predict inherits
    # the limit, but not that thread, which would have lifted it: its own
    # BLAS work then ran on one thread for good.  The user's setting goes
    # back (OpenBLAS's own fork handler has run by now).
    global _blas_lock, _blas_users, _blas_saved
    _blas_lock = threading.Lock()
    if _blas_users and _controls is not None:
        _restore_blas_threads()
    _blas_users = 0
    _blas_saved = []


def _after_fork_in_child():
    _forget_pool()
    _forget_blas_limit()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def run_shards(task, n_shards):
    """Call ``task(k)`` for every shard ``k`` and wait for all of them.

    ``task`` must release the GIL for most of its time (a Numba ``nogil``
    kernel or a large NumPy operation) and write only its shard's part of the
    outputs.  Shards are dealt round-robin to ``min(n_threads(), n_shards)``
    lanes; the caller's thread runs lane 0 and the pool the others.  Inside
    a lane of ``run_chunks`` every shard runs in the lane's own thread.
    Exceptions propagate.
    """
    if n_shards == 1:  # a small batch: no thread-state lookups (~1 us a call)
        task(0)
        return
    lanes = 1 if getattr(_lane_state, "inside", False) else min(n_threads(), n_shards)
    if lanes <= 1:  # one thread, or already in a lane
        for k in range(n_shards):
            task(k)
        return

    def lane(first):
        for k in range(first, n_shards, lanes):
            task(k)

    _run_lanes(lane, lanes)


def run_chunks(task, n_chunks):
    """Call ``task(k, lane)`` for every chunk ``k``, whole chunks side by side.

    For work that comes in many independent chunks (prediction).  With at
    least two chunks per thread, each of the lanes takes every ``lanes``-th
    chunk and runs it whole, its shards and GEMM halves included, in the
    lane's own thread: no pool round trip and no wait for the slower half
    inside a chunk.  With fewer, a lane could sit idle behind the other's
    last chunk, so the chunks run one after another in the caller's thread,
    each spread over the threads by its shards as usual.  ``lane`` (0 for
    the caller's thread) lets the task keep one workspace per thread.
    Results cannot depend on the lanes as long as ``task`` writes only its
    chunk's outputs.  Exceptions propagate.
    """
    inside = getattr(_lane_state, "inside", False)
    lanes = 1 if inside else min(n_threads(), n_chunks // 2)
    if lanes <= 1:
        for k in range(n_chunks):
            task(k, 0)
        return

    def lane(first):
        _lane_state.inside = True
        try:
            for k in range(first, n_chunks, lanes):
                task(k, first)
        finally:
            _lane_state.inside = False

    _run_lanes(lane, lanes)


def _run_lanes(lane, lanes):
    """``lane(i)`` for ``i`` in ``range(lanes)``: 0 here, the others on the pool."""
    pool = _get_pool()
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


def run_halves(task, size, split=None):
    """Call ``task(lo, hi)`` over ``[0, size)``, as two halves in parallel if ``split``.

    ``split`` defaults to ``size >= HALVES_MIN_SIZE``: for elementwise,
    memory-bound updates (Adam over a 10,000-token ``weight_ih``: ~140 MB of
    traffic a step), where a second core adds memory bandwidth.  The halves
    are fixed by ``size`` and ``split`` alone, never by the thread count.
    """
    if split is None:
        split = size >= HALVES_MIN_SIZE
    if not split:
        task(0, size)
        return
    bounds = (0, size // 2, size)
    run_shards(lambda k: task(bounds[k], bounds[k + 1]), 2)
