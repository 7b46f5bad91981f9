"""Shards of a batch and the threads that run them (skrnn/_threads.py, docs/internals.md)."""

import faulthandler
import multiprocessing
import sys
import threading
import time
from functools import partial

import numpy as np
import pytest

from skrnn import RNNClassifier
from skrnn._batching import (GATED_PART_HALVE_STEP_WORK, HALVE_STEP_WORK, SHARD_SEQUENCES,
                             shard_bounds)
from skrnn._kernels._packing import balanced_cuts
from skrnn import _threads
from skrnn._threads import run_chunks, run_shards, single_threaded_blas


@pytest.fixture(autouse=True)
def no_hang():
    """End the run with every thread's traceback if a test here hangs.

    A lost wake-up or a lane never joined shows up as a hang, which would
    otherwise hold CI until its time limit.
    """
    faulthandler.dump_traceback_later(300, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.mark.parametrize("step_work", [0, HALVE_STEP_WORK])
@pytest.mark.parametrize("seed", range(5))
def test_shards_cover_the_live_sequences_in_balanced_ranges(seed, step_work):
    rng = np.random.RandomState(seed)
    n = rng.randint(1, 300)
    lengths = np.sort(rng.randint(0, 120, n))[::-1]
    bounds = shard_bounds(lengths, step_work)
    n_live = np.count_nonzero(lengths)
    assert bounds[0] == 0 and bounds[-1] == n_live
    assert np.all(np.diff(bounds) > 0) or n_live == 0
    n_shards = len(bounds) - 1
    expected = max(1, min(n_live // SHARD_SEQUENCES, 16))
    if step_work and SHARD_SEQUENCES <= n_live < 2 * SHARD_SEQUENCES:
        expected = 2
    assert n_shards == expected or n_live == 0
    if n_shards > 1:
        work = [lengths[a:b].sum() for a, b in zip(bounds[:-1], bounds[1:])]
        # Each shard is within one sequence of an equal share of the steps.
        assert max(work) - min(work) <= 2 * lengths.max()


@pytest.mark.parametrize("seed", range(20))
def test_shard_cuts_are_where_the_running_length_first_reaches_each_share(seed):
    # Shards decide which rows share a BLAS call, so results depend on the
    # cuts to the last bit: they are pinned to their definition (here with
    # NumPy), many ties and heavy tails included.
    rng = np.random.RandomState(seed)
    n = rng.randint(1, 300)
    lengths = np.sort(rng.randint(1, [2, 5, 120, 5000][seed % 4], n))[::-1].astype(np.int64)
    n_parts = rng.randint(2, 17)
    work = np.cumsum(lengths)
    cuts = np.searchsorted(work, work[-1] * np.arange(1, n_parts) / n_parts, side="left") + 1
    want = np.unique(np.concatenate(([0], cuts, [n])))
    np.testing.assert_array_equal(balanced_cuts(lengths, n_parts), want)


@pytest.mark.parametrize("halve_from", [HALVE_STEP_WORK, GATED_PART_HALVE_STEP_WORK])
def test_a_batch_of_32_is_halved_only_when_each_step_carries_enough_work(halve_from):
    lengths = np.full(SHARD_SEQUENCES, 50)
    assert shard_bounds(lengths, halve_from - 1, halve_from).tolist() == [0, SHARD_SEQUENCES]
    half = SHARD_SEQUENCES // 2
    assert shard_bounds(lengths, halve_from, halve_from).tolist() == [0, half, SHARD_SEQUENCES]
    # Fewer sequences than a shard stay whole however heavy the steps.
    short = np.full(SHARD_SEQUENCES - 1, 50)
    assert shard_bounds(short, 10 * halve_from, halve_from).tolist() == [0, SHARD_SEQUENCES - 1]
    # The default is the kernel shards' bound.
    assert shard_bounds(lengths, HALVE_STEP_WORK).tolist() == [0, half, SHARD_SEQUENCES]


def test_shards_depend_on_the_lengths_only():
    lengths = np.full(100, 7)
    np.testing.assert_array_equal(shard_bounds(lengths), shard_bounds(lengths.copy()))
    assert shard_bounds(np.full(SHARD_SEQUENCES - 1, 5)).tolist() == [0, SHARD_SEQUENCES - 1]
    assert shard_bounds(np.zeros(4, dtype=np.int64)).tolist() == [0, 0]


@pytest.mark.parametrize("n_shards", [1, 2, 5])
def test_run_shards_runs_each_shard_once_and_reraises(n_shards):
    seen = []
    run_shards([partial(seen.append, k) for k in range(n_shards)])
    assert sorted(seen) == list(range(n_shards))

    def fail(k):
        if k == n_shards - 1:
            raise RuntimeError(f"shard {k}")

    with pytest.raises(RuntimeError, match=f"shard {n_shards - 1}"):
        run_shards([partial(fail, k) for k in range(n_shards)])


@pytest.fixture
def two_threads(monkeypatch):
    """``n_threads() == 2`` whatever the machine: one helper takes lane 1."""
    monkeypatch.setattr(_threads, "n_threads", lambda: 2)
    _threads._get_helpers()
    return monkeypatch


def test_lanes_run_at_the_same_time_on_two_threads(two_threads):
    # Each call waits for the other: both must be running at once.
    barrier = threading.Barrier(2, timeout=10)
    ids = []

    def meet():
        barrier.wait()
        ids.append(threading.get_ident())

    for _ in range(20):
        ids.clear()
        run_shards([meet, meet])
        assert len(set(ids)) == 2 and threading.get_ident() in ids


@pytest.mark.parametrize("slow_lane", [0, 1])
def test_lanes_reach_a_sleeping_helper_and_a_sleeping_poster(two_threads, slow_lane):
    # With no spinning at all, every hand-over goes through the condition:
    # the helper sleeps between lanes and the poster while it waits.
    two_threads.setattr(_threads, "_spin_polls", 0)
    two_threads.setattr(_threads, "_settle_polls", 0)
    for _ in range(5):
        seen = []

        def lane(k, seen=seen):
            if k == slow_lane:
                time.sleep(0.02)
            seen.append(k)

        run_shards([partial(lane, 0), partial(lane, 1)])
        assert sorted(seen) == [0, 1]
        time.sleep(0.005)  # the helper is asleep by the next post


def test_wait_for_settles_as_many_polls_as_its_flags_hold():
    from skrnn._kernels._sync import wait_for

    flags = np.zeros(16, dtype=np.int64)
    flags[0] = 1  # already there: only the settle is left

    def seconds(settle_slot):
        start = time.perf_counter()
        assert wait_for(flags, 0, 1, 10, -1, 0, settle_slot)
        return time.perf_counter() - start

    seconds(-1)  # compiled
    flags[2] = 0
    none = min(seconds(2) for _ in range(3))
    flags[2] = 100_000_000  # ~0.1 s of polls here
    assert seconds(2) > max(0.01, 100 * none)
    assert seconds(-1) < 0.01  # no slot: no settle


def test_chunk_lanes_reach_the_helper_after_a_longer_settle(two_threads):
    # A lane of run_chunks (a training part, a prediction chunk) lets its
    # poster's Python run CHUNK_SETTLE_S before the helper takes the GIL, a
    # lane of run_shards SETTLE_S; the helper reads the polls from its flags.
    posted = []
    post = _threads._Helper.post

    def spy(self, task, settle_s=_threads.SETTLE_S):
        post(self, task, settle_s)
        posted.append((settle_s, int(self._flags[_threads._SETTLE])))

    two_threads.setattr(_threads._Helper, "post", spy)
    ran = []
    run_chunks(lambda k, lane: ran.append(k), 2, per_lane=1)
    run_shards([partial(ran.append, 2), partial(ran.append, 3)])
    assert sorted(ran) == [0, 1, 2, 3]
    polls = _threads._settle_polls
    chunk_polls = int(polls * _threads.CHUNK_SETTLE_S / _threads.SETTLE_S)
    assert posted == [(_threads.CHUNK_SETTLE_S, chunk_polls), (_threads.SETTLE_S, polls)]
    assert chunk_polls > polls > 0


def test_late_starts_make_the_waits_sleep_for_a_while(two_threads):
    # Two late starts in a row while spinning mean the helper was off its
    # core; from then on every wait sleeps for QUIET_S (and lanes still run).
    two_threads.setattr(_threads, "LATE_S", -1.0)  # every start is late
    two_threads.setattr(_threads, "_quiet_until", 0.0)
    seen = []
    for _ in range(4):
        run_shards([partial(seen.append, 0), partial(seen.append, 1)])
    assert _threads._quiet_until > time.perf_counter() + _threads.QUIET_S / 2
    assert sorted(seen) == [0, 0, 0, 0, 1, 1, 1, 1]
    two_threads.setattr(_threads, "LATE_S", 1e9)
    run_shards([partial(seen.append, 0), partial(seen.append, 1)])
    assert len(seen) == 10


def test_a_failed_lane_zero_waits_for_the_helpers_lane(two_threads):
    # Returning while the helper still ran would let it write into arrays
    # the caller is about to reuse or roll back (a Ctrl-C in fit).
    finished = []

    def interrupted():
        raise KeyboardInterrupt

    def slow():
        time.sleep(0.05)
        finished.append(True)

    with pytest.raises(KeyboardInterrupt):
        run_shards([interrupted, slow])
    assert finished == [True]


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, TimeoutError])
@pytest.mark.parametrize("helper_asleep", [False, True])
def test_an_interrupt_anywhere_in_a_hand_over_loses_no_lane_and_leaves_none_running(
        two_threads, helper_asleep, interrupt):
    # The interrupt is raised at each line of skrnn/_threads.py the poster
    # runs, in turn (as a Ctrl-C, or a signal handler's exception, can be).  Each time, a lane that
    # started must be over when run_shards leaves, none may run twice, the
    # helper must be free again, and the next call must use it.  (A
    # Condition's lock left held by a Ctrl-C in its Python-level __enter__
    # froze the process; a claim taken but not yet recorded lost the helper.)
    counts, threads = {}, {}

    def lane(name):
        def run():
            counts[name] = counts.get(name, 0) + 1
            threads[name] = threading.get_ident()
        return run

    # CPython looks for signals at calls, returns and backward jumps, not at
    # every line: the lines of _run_lanes' clean-up before its first call
    # (inside its try) never see a Ctrl-C, so none is injected there.
    import inspect

    lines, start = inspect.getsourcelines(_threads._run_lanes)
    cleanup = start + next(i for i, line in enumerate(lines) if line.strip() == "finally:")

    def raise_at(n, hit):
        seen = [0]

        def tracer(frame, event, arg):
            if frame.f_code.co_filename != _threads.__file__:
                return None

            def at_line(frame, event, arg):
                if frame.f_code.co_name == "_run_lanes" and frame.f_lineno >= cleanup:
                    return at_line
                if event == "line":
                    seen[0] += 1
                    if seen[0] == n:
                        hit.append(n)
                        raise interrupt
                return at_line

            return at_line

        return tracer

    if helper_asleep:
        two_threads.setattr(_threads, "_spin_polls", 0)
    hit = []
    for n in range(1, 120):
        counts.clear()
        sys.settrace(raise_at(n, hit))
        try:
            run_shards([lane("a0"), lane("a1")])
        except interrupt:
            pass
        finally:
            sys.settrace(None)
        first = dict(counts)
        time.sleep(0.002)
        assert counts == first and max(first.values(), default=1) == 1, n
        assert all(h.owner == 0 for h in _threads._get_helpers()), n
        counts.clear()
        run_shards([lane("b0"), lane("b1")])
        assert counts == {"b0": 1, "b1": 1} and threads["b0"] != threads["b1"], n
    assert 40 < len(hit) < 119  # the poster's whole path was covered


def test_every_helper_is_joined_before_an_error_leaves(monkeypatch):
    # Three threads: lane 1 fails at once, lane 2 later; run_shards must not
    # return before lane 2 is over, nor hand its error to the next call.
    monkeypatch.setattr(_threads, "n_threads", lambda: 3)
    finished = []

    def fail():
        raise ValueError("lane 1")

    def slow():
        time.sleep(0.05)
        finished.append(True)
        raise RuntimeError("lane 2")

    with pytest.raises(ValueError, match="lane 1"):
        run_shards([lambda: None, fail, slow])
    assert finished == [True]
    run_shards([lambda: None] * 3)
    assert all(h.owner == 0 for h in _threads._get_helpers())


@pytest.mark.parametrize("first", [KeyboardInterrupt, ValueError])
def test_what_lane_zero_raised_is_not_replaced_by_a_helpers_error(two_threads, first):
    # A Ctrl-C in the caller's own lane must leave as a KeyboardInterrupt,
    # not as the error a helper's lane raised while it was being joined; an
    # error of lane 0 (the first shard) stays the one reported too.
    def own():
        raise first("lane 0")

    def helper_lane():
        time.sleep(0.02)
        raise RuntimeError("lane 1")

    with pytest.raises(first, match="lane 0"):
        run_shards([own, helper_lane])
    assert all(h.owner == 0 for h in _threads._get_helpers())
    seen = []
    run_shards([partial(seen.append, 0), partial(seen.append, 1)])
    assert sorted(seen) == [0, 1]


def test_an_interrupt_in_the_clean_up_outranks_lane_zeros_error(two_threads):
    # Lane 0 failed, then a Ctrl-C lands while the helpers are being joined:
    # the Ctrl-C leaves (the caller asked to stop), and no helper stays claimed.
    finish, calls = _threads._finish, []

    def interrupted_finish(helpers):
        calls.append(len(helpers))
        finish(helpers)
        if len(calls) == 2:  # the clean-up's call (the first finishes leftovers)
            raise KeyboardInterrupt

    two_threads.setattr(_threads, "_finish", interrupted_finish)

    def own():
        raise ValueError("lane 0")

    with pytest.raises(KeyboardInterrupt):
        run_shards([own, lambda: time.sleep(0.01)])
    assert len(calls) == 2 and calls[1] == 1
    assert all(h.owner == 0 for h in _threads._get_helpers())


def test_an_interrupt_while_joining_outranks_a_lanes_error():
    # _finish retries a join cut by a Ctrl-C; the lane's error seen before
    # the Ctrl-C must not be what leaves.
    class Helper:
        idle, given_back = False, False

        def __init__(self):
            self.raises = [RuntimeError("lane"), KeyboardInterrupt()]

        def join(self):
            exc = self.raises.pop(0)
            self.idle = not self.raises
            raise exc

        def give_back(self):
            self.given_back = True

    helper = Helper()
    with pytest.raises(KeyboardInterrupt):
        _threads._finish([helper])
    assert helper.given_back


def test_a_join_keeps_a_ctrl_c_over_an_earlier_signal_handlers_error(two_threads):
    # join waits on through anything raised meanwhile, then raises it: a
    # TimeoutError from a signal handler, then a Ctrl-C, leaves as the Ctrl-C.
    helper = _threads._get_helpers()[0]
    me = threading.get_native_id()
    assert helper.take(me)
    raises = [TimeoutError("alarm"), KeyboardInterrupt()]
    spin = _threads._Helper._spin

    def interrupted_spin(self, *args, **kwargs):  # the poster's waits only, not the helper's
        if raises and threading.current_thread() is not self._thread:
            raise raises.pop(0)
        return spin(self, *args, **kwargs)

    two_threads.setattr(_threads._Helper, "_spin", interrupted_spin)
    try:
        helper.post(lambda: time.sleep(0.01))
        with pytest.raises(KeyboardInterrupt):
            helper.join()
        assert helper.idle
    finally:
        helper.give_back()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_helper_that_dies_gives_an_error_and_is_replaced(two_threads):
    # A failure of the helper's own loop (not of a lane) once it has seen a
    # lane posted: the poster must get an error, not wait for ever.
    real_spin = _threads._Helper._spin

    dying = []

    def dying_spin(self, slot, *args, **kwargs):
        seen = real_spin(self, slot, *args, **kwargs)
        if slot == _threads._POSTED and threading.current_thread() is self._thread:
            dying.append(self._thread)
            raise MemoryError("the helper's own loop")
        return seen

    first = _threads._get_helpers()[0]
    two_threads.setattr(_threads._Helper, "_spin", dying_spin)
    with pytest.raises(RuntimeError, match="helper thread stopped before finishing"):
        for _ in range(3):  # the helper may be inside the real spin when patched
            run_shards([lambda: None] * 2)
    for thread in dying:  # its exception is reported within this test
        thread.join(5)
    two_threads.setattr(_threads._Helper, "_spin", real_spin)
    ids = []
    run_shards([lambda: ids.append(threading.get_ident())] * 2)
    assert len(set(ids)) == 2 and first not in _threads._get_helpers()


def _lane_threads(n=10):
    """Names of the threads that ran the lanes of ``n`` two-lane calls."""
    names = set()
    for _ in range(n):
        run_shards([lambda: names.add(threading.current_thread().name)] * 2)
    return names


@pytest.mark.parametrize("lane", ["none", "running", "failed"])
def test_a_claim_left_by_a_thread_that_exited_is_taken_back(two_threads, lane):
    # What two interrupts a few us apart can leave behind: the helper still
    # claimed (maybe with a lane posted) by a thread that then exits.  Other
    # calls must get the helper back, without the old lane's exception.
    helper = _threads._get_helpers()[0]
    release = threading.Event()

    def old_lane():
        release.wait(10)
        if lane == "failed":
            raise ValueError("the exited thread's lane")

    def leave_a_claim():
        assert helper.take(threading.get_native_id())
        if lane != "none":
            helper.post(old_lane)

    thread = threading.Thread(target=leave_a_claim)
    thread.start()
    thread.join()
    two_threads.setattr(_threads, "_orphans_checked_at", time.monotonic())
    release.set()
    assert _lane_threads() == {threading.current_thread().name}  # not looked at yet
    two_threads.setattr(_threads, "_orphans_checked_at", -_threads.ORPHAN_CHECK_S)
    assert _lane_threads() == {threading.current_thread().name, helper._thread.name}
    assert helper.owner == 0 and helper.idle


def test_a_live_threads_claim_is_left_alone(two_threads):
    # A thread started outside ``threading`` holding the helper mid-call:
    # other calls run their lanes themselves, and the holder's join still
    # waits for its own lane.
    import _thread

    helper = _threads._get_helpers()[0]
    holding, release, done = threading.Event(), threading.Event(), []

    def holder():
        _threads.run_shards([lambda: (holding.set(), release.wait(10)), lambda: None])
        done.append(True)

    # Lane 0 of the holder's call (in its own thread) waits; lane 1, on the
    # helper, finishes at once.
    _thread.start_new_thread(holder, ())
    assert holding.wait(10)
    two_threads.setattr(_threads, "_orphans_checked_at", -_threads.ORPHAN_CHECK_S)
    try:
        assert _lane_threads(3) == {threading.current_thread().name}
    finally:
        release.set()
    for _ in range(1000):
        if done:
            break
        time.sleep(0.01)
    assert done == [True] and helper.owner == 0


def test_the_helper_serves_on_after_its_lane_raised(two_threads):
    def fail():
        raise ValueError("in the helper")

    with pytest.raises(ValueError, match="in the helper"):
        run_shards([lambda: None, fail])
    ids = []
    run_shards([lambda: ids.append(threading.get_ident())] * 2)
    assert len(set(ids)) == 2


def test_threads_posting_at_once_each_get_all_their_lanes_run(two_threads):
    # A helper serves one poster at a time; a poster that finds none free
    # runs the lane itself.
    from concurrent.futures import ThreadPoolExecutor

    def poster(p):
        counts = np.zeros(3, dtype=int)
        for _ in range(200):
            run_shards([partial(np.add.at, counts, k, 1) for k in range(3)])
        return counts

    with ThreadPoolExecutor(4) as outer:
        for counts in outer.map(poster, range(4)):
            assert counts.tolist() == [200, 200, 200]


@pytest.mark.parametrize("per_lane", [1, 2])
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("n_chunks", [1, 2, 3, 4, 9])
def test_run_chunks_runs_each_chunk_once_whole_in_its_lane_and_reraises(n_chunks, n_threads,
                                                                        per_lane, monkeypatch):
    import threading

    # Pinned, so that both the lanes and the in-turn path run on any machine.
    monkeypatch.setattr(_threads, "n_threads", lambda: n_threads)
    seen, threads_of = [], {}

    def chunk(k, lane):
        # The chunk's own shards stay in the lane's thread.
        inner = []
        run_shards([lambda: inner.append(threading.get_ident())] * 4)
        seen.append((k, lane))
        threads_of.setdefault(lane, set()).update(inner + [threading.get_ident()])

    run_chunks(chunk, n_chunks, per_lane)
    assert sorted(k for k, _ in seen) == list(range(n_chunks))
    # Lanes only with at least per_lane chunks for each thread.
    lanes = 2 if n_threads == 2 and n_chunks >= 2 * per_lane else 1
    if lanes > 1:  # whole chunks side by side, every lane a single thread
        assert {lane for _, lane in seen} == set(range(lanes))
        assert all(len(ids) == 1 for ids in threads_of.values())
        assert len(set().union(*threads_of.values())) == lanes
    else:  # one after another, each free to spread its shards
        assert {lane for _, lane in seen} == {0}
        assert len(threads_of[0]) == n_threads

    def fail(k, lane):
        if k == n_chunks - 1:
            raise RuntimeError(f"chunk {k}")

    with pytest.raises(RuntimeError, match=f"chunk {n_chunks - 1}"):
        run_chunks(fail, n_chunks, per_lane)


@pytest.mark.parametrize("cell, bidirectional", [("lstm", False), ("gru", True)])
def test_prediction_in_chunk_lanes_equals_one_thread(cell, bidirectional, monkeypatch):
    # 1,100 sequences are 5 prediction chunks: with two threads they run in
    # two lanes, with one in turn; the outputs must not differ in any bit.
    from skrnn import RNNSequenceTagger

    rng = np.random.RandomState(3)
    X = [rng.normal(size=(rng.randint(1, 40), 3)).astype(np.float32) for _ in range(1100)]
    y = np.array([int(x[0, 0] > 0) for x in X])
    clf = RNNClassifier(cell, (40,), bidirectional=bidirectional, max_iter=1,
                        random_state=0).fit(X[:200], y[:200])
    tags = [(x[:, 0] > 0).astype(int) for x in X]
    tagger = RNNSequenceTagger(cell, (8,), max_iter=1, random_state=0).fit(X[:100], tags[:100])
    run_lanes, lanes_used = _threads._run_lanes, []

    def spy(lane, lanes, *settle):
        if "run_chunks" in lane.__qualname__:
            lanes_used.append(lanes)
        run_lanes(lane, lanes, *settle)

    monkeypatch.setattr(_threads, "_run_lanes", spy)
    monkeypatch.setattr(_threads, "n_threads", lambda: 2)
    lanes = (clf.predict_proba(X), tagger.predict_proba(X))
    assert lanes_used == [2, 2]
    monkeypatch.setattr(_threads, "n_threads", lambda: 1)
    alone = (clf.predict_proba(X), tagger.predict_proba(X))
    np.testing.assert_array_equal(lanes[0], alone[0])
    for a, b in zip(lanes[1], alone[1]):
        np.testing.assert_array_equal(a, b)


def test_single_threaded_blas_restores_the_previous_limits():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return {(i["filepath"], i["num_threads"]) for i in threadpool_info()
                if i["user_api"] == "blas"}

    before = blas_threads()
    with single_threaded_blas():
        inside = {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
        assert inside == {1}
    after = blas_threads()
    assert after == before


def _fit_in_child(queue):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(80, 6, 2))
    y = (X[:, 0, 0] > 0).astype(int)
    clf = RNNClassifier("gru", (8,), max_iter=2, batch_size=64, random_state=0).fit(X, y)
    queue.put(clf.predict_proba(X).tolist())


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_forked_child_trains_after_the_parent_used_the_threads():
    # GNU OpenMP aborts a forked child that uses it after the parent did; the
    # shard threads are plain Python threads and the child gets a fresh pool.
    rng = np.random.RandomState(1)
    X = rng.normal(size=(80, 6, 2))
    y = (X[:, 0, 0] > 0).astype(int)
    parent = RNNClassifier("gru", (8,), max_iter=2, batch_size=64, random_state=0).fit(X, y)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_fit_in_child, args=(queue,))
    child.start()
    result = queue.get(timeout=120)
    child.join(timeout=60)
    assert child.exitcode == 0
    np.testing.assert_array_equal(np.array(result), parent.predict_proba(X))


def _blas_state_in_child(queue):
    from threadpoolctl import threadpool_info

    from skrnn import _threads as threads

    counts = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    queue.put((threads._blas_users, counts))


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_child_forked_inside_the_blas_limit_gets_the_users_setting_back():
    # The thread holding the limit (a fit or predict) does not exist in the
    # child, so nothing there would lift it: the child's own BLAS work ran on
    # one thread for good.
    from threadpoolctl import threadpool_info, threadpool_limits

    def counts():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    with threadpool_limits(2, user_api="blas"):
        outside = counts()
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        with single_threaded_blas():
            assert set(counts()) == {1}
            child = ctx.Process(target=_blas_state_in_child, args=(queue,))
            child.start()
            users, in_child = queue.get(timeout=60)
            child.join(timeout=60)
    assert child.exitcode == 0
    assert users == 0 and in_child == outside


_WORKER_SHARES = """
from joblib import Parallel, delayed

def share():
    from skrnn._threads import n_threads
    return n_threads()

print(*Parallel(n_jobs=2)(delayed(share)() for _ in range(2)))
"""


def test_joblib_workers_get_their_share_of_the_cores():
    # joblib's process workers set NUMBA_NUM_THREADS to cores // n_jobs, so a
    # grid search with n_jobs equal to the core count runs one thread per fit.
    # joblib keeps a value the user set, so this runs in a process without one.
    import os
    import subprocess

    from joblib import cpu_count

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", _WORKER_SHARES], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [str(max(1, cpu_count() // 2))] * 2


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_optimizer_updates_split_in_halves_equal_the_whole(solver, monkeypatch):
    # Elementwise updates are split for long vectors; the split must not
    # change a single bit.
    from skrnn import _threads
    from skrnn._optimizers import AdamOptimizer, SGDOptimizer

    rng = np.random.RandomState(0)
    theta0 = rng.normal(size=1001).astype(np.float32)
    grads = [rng.normal(size=1001).astype(np.float32) for _ in range(3)]

    def train(min_size):
        monkeypatch.setattr(_threads, "HALVES_MIN_SIZE", min_size)
        theta = theta0.copy()
        opt = AdamOptimizer(theta.size, np.float32) if solver == "adam" else SGDOptimizer(
            theta.size, np.float32)
        for g in grads:
            opt.update_params(theta, g)
        return theta

    whole, halves = train(10**9), train(2)
    np.testing.assert_array_equal(whole, halves)
    assert not np.array_equal(whole, theta0)


def test_concurrent_sharded_fits_share_the_pool_and_match_sequential_fits():
    # Two fits in two threads both hand shards and GEMM halves to the one
    # pool; each must get exactly what it gets alone.
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.base import clone

    rng = np.random.RandomState(2)
    X = [rng.normal(size=(rng.randint(3, 25), 3)).astype(np.float32) for _ in range(160)]
    y = np.array([int(x[0, 0] > 0) for x in X])
    est = RNNClassifier("lstm", (48,), max_iter=2, batch_size=64, random_state=0)
    alone = clone(est).fit(X, y).predict_proba(X)
    with ThreadPoolExecutor(2) as outer:
        results = list(outer.map(lambda _: clone(est).fit(X, y).predict_proba(X), range(2)))
    for result in results:
        np.testing.assert_array_equal(result, alone)


def test_blas_limit_applies_from_any_thread():
    # threadpoolctl lets only the first thread that limited OpenBLAS change it;
    # skrnn's limit must hold in a worker thread too (regression: fits in
    # worker threads ran with multi-threaded BLAS).
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads_inside():
        with single_threaded_blas():
            return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    with threadpool_limits(limits=2, user_api="blas"):  # the main thread takes control
        assert blas_threads_inside() == {1}
        with ThreadPoolExecutor(1) as worker:
            assert worker.submit(blas_threads_inside).result() == {1}
