"""What the benchmark scripts share: optional torch, medians, result rows.

Every script returns its results as rows (plain dicts, JSON-ready) so that
``run_all.py`` can print, save and plot them; the keys every row has are
documented in ``result_row``.  Scripts import this module as ``_harness``:
``python benchmarks/<script>.py`` puts ``benchmarks/`` first on ``sys.path``.
"""

import time

import numpy as np

TORCH_THREADS = 2


def load_torch(n_threads=TORCH_THREADS):
    """Return the ``torch`` module set to ``n_threads`` threads, or None if absent.

    torch is an optional benchmark dependency: without it the scripts still
    time skrnn and report the torch columns as missing.
    """
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(n_threads)
    return torch


def median_time(fn, repeats, warmup=True, setup=None):
    """Median wall time of ``fn()`` in seconds over ``repeats`` calls.

    ``setup()``, if given, runs untimed before each call (to restore what
    ``fn`` overwrites in place).
    """
    if warmup:
        if setup is not None:
            setup()
        fn()
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def skrnn_training_step(seqs, arch, rng, blas_limit=True):
    """One skrnn training step as ``fit`` runs it per mini-batch: pack, loss and gradient, Adam.

    Binary head on random labels, the whole of ``seqs`` as the batch,
    float32, ``alpha=1e-4``.  With ``blas_limit`` the step sets BLAS to one
    thread itself; otherwise the caller does.
    """
    from skrnn._batching import pack_batch
    from skrnn._network import Network
    from skrnn._optimizers import AdamOptimizer
    from skrnn._params import Layout
    from skrnn._threads import single_threaded_blas

    layout = Layout(arch)
    network = Network(layout, "binary", False)
    theta = layout.init_theta(rng, np.float32)
    optimizer = AdamOptimizer(theta.size, np.float32)
    y = rng.randint(0, 2, seqs.n_samples).astype(np.float32)
    idx = np.arange(seqs.n_samples)
    grad = np.empty_like(theta)  # fit keeps one gradient buffer too

    def step():
        batch = pack_batch(seqs, idx, y=y)
        network.loss_and_grad(theta, batch, 1e-4, out=grad)
        optimizer.update_params(theta, grad)

    if not blas_limit:
        return step

    def limited_step():
        with single_threaded_blas():
            step()

    return limited_step


# Before each timed call, the side about to be timed runs untimed for at least
# this long (see ``interleaved_times``): torch's spin slowed skrnn's calls for
# 10-25 ms of them in these VMs' runs, so twice the longest.
SETTLE_S = 0.05


def settle(fn, seconds):
    """Call ``fn`` untimed, at least once and until ``seconds`` have passed."""
    start = time.perf_counter()
    fn()
    while time.perf_counter() - start < seconds:
        fn()


def interleaved_times(fns, repeats, warmup=True, settle_s=SETTLE_S):
    """Median wall time (seconds) of each function in ``fns`` (a dict), called in turn.

    Taking turns puts every side under the same machine noise (other jobs
    on the shared cores).  Each turn first runs the side about to be timed,
    untimed, for ``settle_s`` seconds (at least one call; 0 for just that
    one call), so that the timed call finds the machine as that side's own
    training loop leaves it, not as the other library left it.  torch's
    OpenMP workers spin after each torch call, on the core skrnn's second
    shard needs: an LSTM-64 skrnn step took 5.0-5.7 ms right after a torch
    step and 3.5-3.7 ms on the next call, and came down to its steady
    2.2-2.6 ms only after 10-25 ms of calls; torch's first step after
    skrnn's was 10-25 % slower than its next ones, which were steady
    (``bench_interference.py``).  A single settling call (this harness
    until the eighth session) left skrnn's timed call inside that window.
    The settling runs the side's own work, not a pause: after an idle
    moment these VMs run both sides 1.5-2x slower (sleeping 30 ms instead
    made both slower and noisier).  Values of ``fns`` that are None are
    skipped (no time).
    """
    live = {k: fn for k, fn in fns.items() if fn is not None}
    if warmup:
        for fn in live.values():
            fn()
    times = {k: [] for k in live}
    for _ in range(repeats):
        for key, fn in live.items():
            turn = time.perf_counter()
            settle(fn, settle_s)
            if _end_quiet_spell_begun_after(turn):
                settle(fn, RESETTLE_S)
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    return {k: float(np.median(v)) for k, v in times.items()}


# skrnn's helper threads stop spinning for ``_threads.QUIET_S`` (1 s) once
# they find their core taken twice in a row (``_threads.LATE_S``), as on an
# oversubscribed machine.  At the start of skrnn's turn torch's OpenMP
# workers are still spinning (10-25 ms, ``bench_interference.py``; spells
# began 3-41 ms into the turn), which sets off such a spell; lasting 1 s, it
# covered the next several turns, and 14-15 of 21 timed calls at hidden 128
# ran with sleeping hand-overs (6-15 % slower at two shards, LSTM-64 to
# GRU-128).  A spell that began during a turn's settling is the other
# library's wake and is ended, then the side settles again for
# ``RESETTLE_S`` (its helpers were asleep).  One that began before is kept,
# as a loop running alone keeps it: machine noise set one off about once in
# 5 s of a lone LSTM-128 loop, so about one 50 ms settling in 100 would
# have met one of its own.
RESETTLE_S = 0.01


def _end_quiet_spell_begun_after(start):
    """End skrnn's quiet spell if it began after ``start``; whether it did."""
    from skrnn import _threads

    if _threads._quiet_until - _threads.QUIET_S < start:
        return False
    _threads._quiet_until = 0.0
    return True


def interleaved_medians(fn_a, fn_b, repeats, warmup=True):
    """``interleaved_times`` of two functions: ``(median of fn_a, median of fn_b or None)``."""
    med = interleaved_times({"a": fn_a, "b": fn_b}, repeats, warmup)
    return med["a"], med.get("b")


def result_row(case, skrnn, unit, *, torch=None, has_torch=True, ratio=None,
               target=None, met=None, **fields):
    """One row of a benchmark table.

    Parameters
    ----------
    case : str
        What the row measures, for a human.
    skrnn : float
        skrnn's value, in ``unit``.
    unit : str
        ``'ms'``, ``'s'``, ``'us'``, ``'MB'``, ``'%'`` or ``''``.
    torch : float or None, default=None
        torch's value in ``unit``; None when torch is not installed.
    has_torch : bool, default=True
        False for rows without a torch counterpart: the row gets no
        ``'torch'`` key, which tables show as a dash rather than ``n/a``.
    ratio : float or None, default=None
        The row's headline ratio; defaults to ``torch / skrnn`` (a speed-up,
        > 1 when skrnn is faster) when both values exist.
    target : tuple (op, bound) or None, default=None
        ``('>=', 3.0)`` or ``('<=', 1.5)``: the bound the ratio must meet.
    met : bool or None, default=None
        Overrides the check of ``ratio`` against ``target`` (for targets on
        another quantity, stated in ``fields['target_text']``).
    **fields
        Raw values kept in the saved results (cell, hidden, ...).
    """
    row = {"case": case, "skrnn": float(skrnn), "unit": unit}
    if has_torch:
        row["torch"] = None if torch is None else float(torch)
        if ratio is None and torch is not None:
            ratio = torch / skrnn
    row["ratio"] = None if ratio is None else float(ratio)
    if target is not None:
        op, bound = target
        row["target_op"], row["target_value"] = op, float(bound)
        row.setdefault("target_text", f"{op} {bound:g}x")
        if met is None and ratio is not None:
            met = ratio >= bound if op == ">=" else ratio <= bound
    row["met"] = None if met is None else bool(met)
    row.update(fields)  # a caller's target_text replaces the generated one
    return row
