"""Threads: one BLAS thread per call, and shards of a batch run side by side.

The kernels' per-step products go through Numba's BLAS (SciPy's OpenBLAS)
while the hoisted GEMMs go through NumPy's own OpenBLAS.  Alternating
between two multi-threaded BLAS libraries makes their spinning worker
threads fight for the cores: on a 2-core machine an LSTM training step with
64-128 hidden units ran 2.5-3x slower than with one BLAS thread (measured in
benchmarks/bench_training_step.py).  So BLAS runs single-threaded inside
``fit``/``predict``, and skrnn's own parallelism is over *shards*: fixed
ranges of a batch's sequences whose recurrences are independent, run inside
each kernel call or, in training, as whole parts of the batch
(docs/internals.md, "Shards" and "Parts").

Shards run on helper threads, plain Python threads rather than Numba's
``prange``: the kernels release the GIL, and Python threads need no
threading layer (GNU OpenMP aborts a process forked after using it, and
Numba's fallback ``workqueue`` layer aborts when two threads launch kernels
at once, as joblib's threading backend does).  A helper waits for its next
lane spinning without the GIL (``_Helper``): waking a sleeping thread cost
more on 2-core VMs than a small kernel's whole shard.  The number of
threads is ``numba.config.NUMBA_NUM_THREADS``: all cores by default, the
share joblib gives a worker process (it sets ``NUMBA_NUM_THREADS`` there),
or what the user sets in that environment variable.  Results never depend
on it: the shards are fixed by the batch, and the thread count only decides
how many run at once.
"""

import ctypes
import os
import queue
import threading
import time
from functools import partial

import numba
import numpy as np

# Numba's np.dot calls SciPy's BLAS; load it now so the limit reaches it even
# in a first fit, whose kernels compile (and load it) inside the context.
import scipy.linalg  # noqa: F401
from threadpoolctl import ThreadpoolController

from ._kernels._sync import claim, post_next, unclaim, wait_for

__all__ = ["single_threaded_blas", "run_shards", "run_chunks", "run_halves", "n_threads"]

_controls = None
_blas_lock = threading.Lock()
_blas_users = 0
_blas_saved = []
_helpers = None
_helpers_lock = threading.Lock()
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


# A waiting side spins this long, then sleeps; a lane posted to a sleeping
# helper pays the 50-60 us wake-up.  Mini-batches of small models hand a
# lane over every 0.1-1 ms, so they keep their helper awake; after a fit or
# predict a helper holds its core this long (OpenMP runtimes spin for ~0.2
# ms (GNU) to 200 ms (Intel) by default).  All of it is one ``wait_for``
# call: a waiting side that came back to Python now and then would take the
# GIL from the working side, which then slept 20-25 us to get it back.
SPIN_S = 1e-3
# A helper that sees a lane posted spins on this long before it takes the
# GIL: the poster holds the GIL for the few us of its own lane's dispatch,
# and a thread that finds the GIL taken sleeps (20-25 us to wake).
SETTLE_S = 10e-6
# ... and this long for a lane of ``run_chunks``, whose poster runs ~25-40 us
# of Python (a training part's rows, states and input copy) before its first
# long kernel.  With 10 us the helper's lane of a two-part LSTM-32 step
# started 58-75 us into the step and its first call took 49-56 us, against
# 7-8 us in the caller's lane: the two lanes took turns at the GIL, sleeping.
# 60 against 10 us, toggled in one process, training steps: LSTM-32 0.93x
# the time (two A/Bs; 80 and 120 us were slower again), GRU-40 0.96x, GRU-64
# 0.94x, RNN-128 0.95x, LSTM-64 at batch 256 0.94x, LSTM-64 and LSTM-128
# 0.99-1.00x, token input 0.99-1.00x; prediction of 300 and 10,000 LSTM-64
# sequences 0.99-1.00x.
CHUNK_SETTLE_S = 60e-6
# A spinning helper that takes longer than this to start a lane, twice in a
# row, was off its core: more threads want the cores than there are (two
# processes fitting at once, or one beside a busy process).  Spinning then
# takes cores from threads with work, even yielding them (``wait_for``), so
# for ``QUIET_S`` every wait sleeps at once; the next spin tests the cores
# again.  An LSTM-64 fit on 2 cores beside a busy process took 0.28-0.30 s
# (the old sleeping pool 0.30-0.36 s, spinning throughout 0.42-0.60 s); two
# such fits at once 0.28-0.30 s each (pool 0.35-0.37 s; 1.0 s spinning
# without yields).  torch's OpenMP threads spinning after a torch call set
# it off too, in benchmarks that take turns with torch.
LATE_S = 1e-3
LATE_STRIKES = 2
QUIET_S = 1.0
# ``_Helper._flags`` slots: written by the poster, and by the helper on
# another cache line.
_POSTED, _SETTLE, _OWNER, _IDLE = 0, 2, 4, 8
# Both durations in polls of ``wait_for``, measured when the helpers start.
_spin_polls = _settle_polls = 0
# ``time.perf_counter()`` before which waits do not spin (see ``LATE_S``).
_quiet_until = 0.0


def _polls_per_second():
    """How fast ``wait_for`` polls on this machine (~1e9 a second here), the faster of two runs."""
    flags = np.zeros(1, dtype=np.int64)
    polls = 1 << 18
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        wait_for(flags, 0, 1, polls, -1, 0, -1)
        best = min(best, time.perf_counter() - start)
    return polls / max(best, 1e-9)


class _Helper:
    """A thread that runs the lanes one poster at a time hands it.

    Both sides wait spinning in a Numba ``nogil`` loop (``wait_for``), so a
    lane reaches the helper in a few us where ``ThreadPoolExecutor`` took
    50-60 us, and its end reaches the poster as fast; after ``SPIN_S`` of
    spinning a waiting side sleeps instead.  The handovers avoid the GIL's
    own hand-off, where a thread that finds the GIL taken sleeps: the helper
    announces a lane's end only once it has let go of the GIL (from inside
    its next ``wait_for``), and lets the poster's Python run on for a moment
    before taking the GIL for a new lane.

    The poster's side must survive a Ctrl-C wherever CPython delivers it
    (the helper's never sees one: signals go to the main thread).  So the
    claim on a helper and the count of lanes posted live in the flags, each
    changed in one Numba call; a sleeping side waits on a
    ``queue.SimpleQueue`` (C code, no lock to leave held), where a spare
    wake-up only makes it look at its flag again; and a poster about to
    sleep wakes the helper too, in case a Ctrl-C cut the wake-up that
    should have followed its post.
    """

    def __init__(self, name):
        self._flags = np.zeros(16, dtype=np.int64)
        # Wake-ups for the helper (a lane posted) and for the poster (done).
        self._helper_bell = queue.SimpleQueue()
        self._poster_bell = queue.SimpleQueue()
        self._helper_asleep = self._poster_asleep = False
        # Lanes finished, for a poster that sleeps.
        self._done = 0
        self._dead = False
        self._posted_at = 0.0
        self._settle_s = SETTLE_S
        self._task = None
        self._error = None
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    @property
    def alive(self):
        return not self._dead and self._thread.is_alive()

    @property
    def idle(self):
        """Whether the helper has finished every lane posted to it (or died)."""
        return self._dead or self._done >= int(self._flags[_POSTED])

    @property
    def owner(self):
        """Native id of the thread the helper is claimed by (0: free)."""
        return int(self._flags[_OWNER])

    def take(self, owner, previous=0):
        """Claim the helper for thread ``owner`` (its native id); whether it was free.

        ``previous``: the id of an exited thread whose claim ``owner`` takes over.
        """
        return claim(self._flags, _OWNER, previous, owner)

    def give_back(self):
        unclaim(self._flags, _OWNER)

    def _spin(self, slot, value, announce=-1, announced=0, settle_slot=-1):
        """Spin without the GIL, up to ``SPIN_S``, until ``flags[slot] >= value``; if it did."""
        polls = _spin_polls if time.perf_counter() >= _quiet_until else 0
        return wait_for(self._flags, slot, value, polls, announce, announced, settle_slot)

    def _serve(self):
        global _quiet_until
        flags = self._flags
        seen = strikes = 0
        try:
            while True:
                spun = self._spin(_POSTED, seen + 1, announce=_IDLE, announced=seen,
                                  settle_slot=_SETTLE)
                if not spun:
                    # The flag is read again after the helper says it sleeps:
                    # under the GIL, a poster either sees it asleep (and rings)
                    # or published before this look.
                    self._helper_asleep = True
                    while flags[_POSTED] <= seen:
                        self._helper_bell.get()
                    self._helper_asleep = False
                seen += 1
                # Spinning, yet late: this thread was off its core.  Twice in a
                # row, as one late start happens now and then with the cores
                # free; a start after sleeping says nothing (3 ms after a long
                # idle here).
                if spun:
                    now = time.perf_counter()
                    late = now - self._posted_at > LATE_S + self._settle_s
                    strikes = strikes + 1 if late else 0
                    if strikes >= LATE_STRIKES:
                        _quiet_until = now + QUIET_S
                        strikes = 0
                task = self._task
                try:
                    task()
                except BaseException as exc:  # re-raised in the poster's thread
                    self._error = exc
                del task
                # A poster spinning sees the lane's end when the next wait_for
                # announces it; one asleep needs ``_done`` and a wake-up.
                self._done = seen
                if self._poster_asleep:
                    self._poster_bell.put(None)
        finally:
            # Only a failure of this loop itself gets here: no poster may
            # wait for this helper again.
            self._dead = True
            self._poster_bell.put(None)

    def post(self, task, settle_s=SETTLE_S):
        """Start ``task()`` on the helper (claimed by the caller), ``settle_s`` after it sees it."""
        self._task = task
        self._error = None
        self._settle_s = settle_s
        # In polls, scaled from the measured SETTLE_S (0 when a test turns the
        # settling off); read by the helper after the release store below.
        self._flags[_SETTLE] = int(_settle_polls * settle_s / SETTLE_S)
        self._posted_at = time.perf_counter()
        post_next(self._flags, _POSTED)
        if self._helper_asleep:
            self._helper_bell.put(None)

    def join(self):
        """Wait, even through interrupts, until the helper ran every lane posted; re-raise errors.

        Returning while the helper still ran would leave it writing into
        arrays its caller is about to reuse or roll back.  Returns at once
        if nothing was posted since the last join.
        """
        posted = int(self._flags[_POSTED])
        interrupted = None
        while True:
            try:
                if not self._spin(_IDLE, posted):
                    self._poster_asleep = True
                    self._helper_bell.put(None)
                    while self._done < posted and not self._dead:
                        try:
                            self._poster_bell.get(timeout=1.0)
                        except queue.Empty:
                            self._dead = self._dead or not self._thread.is_alive()
                    self._poster_asleep = False
                break
            except BaseException as exc:  # Ctrl-C, a signal handler's exception, ...
                if _outranks(exc, interrupted):
                    interrupted = exc
        error, self._error, self._task = self._error, None, None
        if self._dead and self._done < posted:
            error = RuntimeError(
                "an skrnn helper thread stopped before finishing its part of this call, "
                "so the call did not complete; the next call starts a new helper"
            )
        if interrupted is not None:
            raise interrupted
        if error is not None:
            raise error


def _get_helpers():
    """The helper threads, ``n_threads() - 1`` of them, started on first use."""
    global _helpers, _spin_polls, _settle_polls
    helpers = _helpers
    if helpers is not None and len(helpers) >= n_threads() - 1 and all(h.alive for h in helpers):
        return helpers
    with _helpers_lock:
        if _helpers is None:
            rate = _polls_per_second()
            _spin_polls, _settle_polls = int(SPIN_S * rate), int(SETTLE_S * rate)
        helpers = [h for h in _helpers or () if h.alive]
        # NUMBA_NUM_THREADS can be raised at run time (numba.config).
        while len(helpers) < n_threads() - 1:
            helpers.append(_Helper(f"skrnn-{len(helpers)}"))
        _helpers = helpers
        return helpers


def _forget_helpers():
    # A forked child inherits the helpers (and maybe held locks) but not
    # their threads.
    global _helpers, _helpers_lock
    _helpers = None
    _helpers_lock = threading.Lock()


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
    _forget_helpers()
    _forget_blas_limit()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def run_shards(calls):
    """Make every call of ``calls`` (callables taking no argument) and wait for all.

    Each call must release the GIL for most of its time (a Numba ``nogil``
    kernel or a large NumPy operation) and write only its shard's part of the
    outputs; a call bound in advance (``functools.partial`` of a kernel)
    keeps the GIL for the least time.  Calls are dealt round-robin to
    ``min(n_threads(), len(calls))`` lanes; the caller's thread runs lane 0
    and helpers the others.  Inside a lane of ``run_chunks`` every call runs
    in the lane's own thread.  Exceptions propagate.
    """
    n_calls = len(calls)
    if n_calls == 1:  # a small batch: no thread-state lookups (~1 us a call)
        calls[0]()
        return
    lanes = 1 if getattr(_lane_state, "inside", False) else min(n_threads(), n_calls)
    if lanes <= 1:  # one thread, or already in a lane
        for call in calls:
            call()
        return

    def lane(first):
        for call in calls[first::lanes]:
            call()

    _run_lanes(lane, lanes)


def run_chunks(task, n_chunks, per_lane=2, settle_s=CHUNK_SETTLE_S):
    """Call ``task(k, lane)`` for every chunk ``k``, whole chunks side by side.

    For work that comes in independent chunks (prediction's chunks, the
    parts of a training batch).  With at least ``per_lane`` chunks per
    thread, each of the lanes takes every ``lanes``-th chunk and runs it
    whole, its shards and GEMM halves included, in the lane's own thread: no
    hand-over per chunk and no wait for the slower half inside a chunk.  With
    fewer, the chunks run one after another in the caller's thread, each
    spread over the threads by its shards as usual.  Prediction's chunks are
    of unequal sizes, so it asks for two a lane (one lane could sit idle
    behind the other's last chunk); a training batch's parts are balanced
    (``per_lane=1``).  ``lane`` (0 for the caller's thread) lets the task keep
    one workspace per thread.  Results cannot depend on the lanes as long as
    ``task`` writes only its chunk's outputs.  Exceptions propagate.
    ``settle_s``: how long a helper waits before it starts its lane (see
    ``CHUNK_SETTLE_S``).
    """
    inside = getattr(_lane_state, "inside", False)
    lanes = 1 if inside else min(n_threads(), n_chunks // per_lane)
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

    _run_lanes(lane, lanes, settle_s)


def _run_lanes(lane, lanes, settle_s=SETTLE_S):
    """``lane(i)`` for ``i`` in ``range(lanes)``: 0 here, the others on free helpers.

    A lane finding no free helper (another thread's fit has them) runs here
    after lane 0: results do not depend on where a lane runs.  A Ctrl-C may
    fall anywhere: every helper claimed under this thread's name is joined
    and given back before anything leaves, and one left claimed by a cut
    clean-up is finished at this thread's next call (or by another thread,
    once this one has exited: ``_adopt_orphans``).
    """
    me = threading.get_native_id()
    # A thread started outside ``threading`` is listed from here on, so a
    # claim of its own is never taken for an orphan.
    threading.current_thread()
    helpers = _get_helpers()
    _finish([h for h in helpers if h.owner == me])
    taken = []
    leaving = None  # the class of what the lanes raised: the instance would hold this frame
    try:
        _take(helpers, me, lanes - 1, taken)
        if len(taken) < lanes - 1 and _adopt_orphans(helpers, me):
            _take(helpers, me, lanes - 1, taken)
        for first, helper in enumerate(taken, start=1):
            helper.post(partial(lane, first), settle_s)
        lane(0)
        for first in range(1 + len(taken), lanes):
            lane(first)
    except BaseException as exc:
        leaving = exc.__class__
        raise
    finally:
        # Inline, not a function: CPython looks for signals on entering a
        # function, which would leave a Ctrl-C there outside this try.  A
        # helper given back is no longer ``me``'s, so a retry does the rest.
        raised = None
        while True:
            try:
                _finish([h for h in helpers if h.owner == me])
            except BaseException as exc:
                if _outranks(exc, raised):
                    raised = exc
                if any(h.owner == me for h in helpers):
                    continue
            break
        # What is already leaving keeps leaving (lane 0's error, a Ctrl-C),
        # unless the clean-up met an interrupt and it is an ordinary error:
        # a lane's exception raised here would replace a Ctrl-C.
        if raised is not None and _outranks(raised, leaving):
            raise raised
        raised = None  # dropped: its traceback would keep this frame alive


# How often a thread finding helpers claimed looks for claims whose threads
# have exited (listing the threads costs a few us).
ORPHAN_CHECK_S = 1.0
_orphans_checked_at = -ORPHAN_CHECK_S


def _take(helpers, me, wanted, taken):
    """Claim free helpers for thread ``me`` into ``taken``, until it holds ``wanted``."""
    for helper in helpers:
        if len(taken) == wanted:
            return
        if helper.take(me):
            taken.append(helper)


def _adopt_orphans(helpers, me):
    """Give back helpers claimed by threads that have exited; whether any was.

    Looks at most once per ``ORPHAN_CHECK_S``.  Two interrupts a few us
    apart can cut ``_run_lanes``' clean-up short and leave a helper claimed
    until its thread's next call; a thread that exits first never makes
    one, and every other fit would run that helper's lanes itself from then
    on.  The lane left on it belonged to a call that ended with its thread:
    its exception is dropped.
    """
    global _orphans_checked_at
    now = time.monotonic()
    if now - _orphans_checked_at < ORPHAN_CHECK_S:
        return False
    _orphans_checked_at = now
    live = {thread.native_id for thread in threading.enumerate()}
    adopted = False
    for helper in helpers:
        owner = helper.owner
        if owner in (0, me) or owner in live or not helper.take(me, previous=owner):
            continue
        adopted = True
        try:
            _finish([helper])
        except Exception:
            pass
    return adopted


def _outranks(new, kept):
    """Whether exception ``new`` leaves instead of ``kept`` (an exception, its class, or None).

    The first one leaves, except that an interrupt (outside ``Exception``:
    a Ctrl-C, ``SystemExit``) outranks an ordinary error: the caller asked
    to stop, and a lane's error must not hide that.  The one rule for
    ``_Helper.join``, ``_finish`` and ``_run_lanes``.
    """
    if kept is None:
        return True
    kept_class = kept if isinstance(kept, type) else type(kept)
    return issubclass(kept_class, Exception) and not isinstance(new, Exception)


def _finish(helpers):
    """Join every helper of ``helpers``, then give them back; raise what they raised.

    Any exception, not only a Ctrl-C (a signal handler's, say), may land
    around a join: a helper is given back only once it is idle.  An
    interrupt (an exception outside ``Exception``) raised meanwhile is what
    leaves, not a lane's error seen before it: the caller asked to stop.
    """
    error = None
    for helper in helpers:
        while True:
            try:
                helper.join()  # returns at once once joined: retried freely
            except BaseException as exc:
                if _outranks(exc, error):
                    error = exc
            if helper.idle:
                break
    for helper in helpers:
        helper.give_back()
    if error is not None:
        raise error


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
    run_shards([partial(task, bounds[0], bounds[1]), partial(task, bounds[1], bounds[2])])
