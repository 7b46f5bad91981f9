"""Forward pass and loss gradient of a whole network on a packed batch.

Python loops over layers and directions; the Numba kernels loop over time and
units.  Every weight gradient is one GEMM over all packed rows (hoisted out of
the time loop), the kernels only carry the recurrence.  A training batch of
several shards runs as parts, each such a batch of its own on one thread
(``_parts.py``).
"""

import math
import threading
from functools import partial
from typing import NamedTuple

import numpy as np

from ._batching import GATED_PART_HALVE_STEP_WORK, HALVE_STEP_WORK
from ._kernels._embedding import gather_rows, scatter_add_rows
from ._kernels._gru import gru_backward, gru_forward
from ._kernels._lstm import lstm_backward, lstm_forward
from ._kernels._optim import add_l2
from ._kernels._output import (binary_log_loss, final_state_head_backward, final_state_logits,
                               softmax_cross_entropy, squared_error)
from ._kernels._packing import end_rows, previous_states
from ._kernels._part import lstm_part_loss_and_grad
from ._kernels._rnn import rnn_backward, rnn_forward
from ._parts import TrainingInParts
from ._threads import HALVES_MIN_SIZE, run_halves, run_shards

__all__ = ["Network", "LOSSES", "thread_workspace", "PREDICT_WORKSPACE_BYTES"]

LOSSES = ("binary", "multiclass", "squared")


class _Workspace:
    """Per-row scratch arrays, kept from one mini-batch to the next.

    A training step at hidden 128 allocated ~15 MB of fresh per-row arrays;
    above glibc's mmap threshold each allocation comes back as new pages, and
    the first touch of each page faulted (~2,000 faults a step, 30 % of an
    LSTM-128 step).  Arrays handed out here are reused by the next call with
    the same key, so they must never outlive the call that asked for them
    (returned values are fresh arrays or copies).
    """

    def __init__(self):
        self._arrays = {}
        self._nbytes = 0  # held in _arrays, kept as they change (trim runs every predict)

    def _keep(self, key, buf):
        old = self._arrays.get(key)
        self._nbytes += buf.nbytes - (0 if old is None else old.nbytes)
        self._arrays[key] = buf

    def empty(self, key, shape, dtype):
        buf = self._arrays.get(key)
        if buf is None:
            # A first use: the array itself, no flat buffer and views (~1 us each).
            buf = np.empty(shape, dtype=dtype)
            self._keep(key, buf)
            return buf
        if buf.shape == shape and buf.dtype == dtype:
            return buf
        size = math.prod(shape)
        if buf.dtype != dtype or buf.size < size:
            buf = np.empty(size, dtype=dtype)
            self._keep(key, buf)
        return buf.reshape(-1)[:size].reshape(shape)

    def zeros(self, key, shape, dtype):
        out = self.empty(key, shape, dtype)
        out.fill(0)
        return out

    def nbytes(self):
        return self._nbytes

    def trim(self, max_bytes):
        """Let go of every array if together they hold more than ``max_bytes``."""
        if self._nbytes > max_bytes:
            self._arrays.clear()
            self._nbytes = 0


# Prediction keeps one workspace per thread, across calls and models: a
# fresh one per call (per-row arrays of several MB) came back from glibc as
# new pages every call, and faulting them in again made batched predict
# 1.5-2.7x slower (LSTM-64, 32-256 ragged sequences: 457-3,254 faults a
# call).  Per thread, so that threads predicting at once never share one;
# cut back to nothing after a call that left more than this, so that one
# huge input (a long bidirectional sequence is not chunked) does not stay
# resident.  Chunked prediction needs ~1-4 MB per per-row array.
PREDICT_WORKSPACE_BYTES = 64 << 20
_thread_state = threading.local()


def thread_workspace():
    """This thread's prediction workspace (see ``PREDICT_WORKSPACE_BYTES``)."""
    ws = getattr(_thread_state, "workspace", None)
    if ws is None:
        ws = _thread_state.workspace = _Workspace()
    return ws


# OpenBLAS's AVX-512 builds (what these machines run) multiply an (m, k) @
# (k, n) product with m * k * n <= 100**3 by small-matrix kernels that do
# not pack the operands; a larger one packs W_hh again on every per-step call
# of a kernel.  So the per-step products are cut into column blocks under
# that bound: one thread, 50 steps of 16 rows at hidden 128, the LSTM's
# forward products went 2.35 -> 1.09 ms, its backward ones ~2x faster, and
# 1.2-2.6x wherever at most 16 blocks get under the bound (hidden 64-512,
# 16-64 rows); an LSTM-128 training step at batch 32 went 9.8 -> 7.5 ms on 2
# threads, 16.0 -> 12.4 ms on 1.  Past 16 blocks the narrow products lose
# again; those products are computed whole and transposed instead (0 blocks,
# see ``_steps.column_blocks``).  Where BLAS has no such path the cut only
# costs a few more calls per step.
SMALL_PRODUCT = 100**3
MAX_COLUMN_BLOCKS = 16


def recurrent_blocks(shards, k, w_hh_t):
    """Column blocks of the per-step products (``h @ W_hh.T``, ``dpre @ W_hh``) of shard ``k``.

    1 to ``MAX_COLUMN_BLOCKS``, or 0 for a product too large for them (whole,
    transposed).  Depends on the shapes only, never on the number of threads.
    """
    work = int(shards[k + 1] - shards[k]) * w_hh_t.shape[0] * w_hh_t.shape[1]
    blocks = 1
    while work > blocks * SMALL_PRODUCT:
        blocks *= 2
    return blocks if blocks <= MAX_COLUMN_BLOCKS else 0


def _run_sharded(kernel, lead, shards, w_hh_t, rest):
    """``kernel(*lead, lo, hi, n_blocks, *rest)`` for every shard, side by side.

    Each shard's call is bound here, on the caller's thread: a thread that
    receives a shard then only makes the kernel call, and holds the GIL for
    the few us of Numba's dispatch (``run_shards``).
    """
    run_shards([
        partial(kernel, *lead, shards[k], shards[k + 1], recurrent_blocks(shards, k, w_hh_t), *rest)
        for k in range(len(shards) - 1)
    ])


def _xproj_key(key):
    """Workspace key of a layer direction's ``xproj``.

    Its buffer outlives the forward: the LSTM writes its gates over it, and
    ``_layer_backward`` writes every cell's ``dxproj`` into it.
    """
    return key + "xproj"


def _layer_forward(ws, key, cell, relu, xproj, batch_sizes, shards, w_hh_t, b_hh, h0, c0,
                   reverse):
    n_rows = xproj.shape[0]
    hidden = w_hh_t.shape[0]
    h = ws.empty(key + "h", (n_rows, hidden), xproj.dtype)
    if cell == "rnn":
        state = ()
        kernel, rest = rnn_forward, (h0, reverse, relu, h)
    elif cell == "lstm":
        c = ws.empty(key + "c", h.shape, h.dtype)
        gates = xproj  # written over it (see _kernels/_lstm.py), and later its gradient
        state = (c, gates)
        kernel, rest = lstm_forward, (h0, c0, reverse, h, c, gates)
    else:
        gates = ws.empty(key + "gates", xproj.shape, xproj.dtype)
        hn = ws.empty(key + "hn", h.shape, h.dtype)
        state = (gates, hn)
        kernel, rest = gru_forward, (h0, reverse, h, gates, hn)
    _run_sharded(kernel, (xproj, batch_sizes), shards, w_hh_t, (w_hh_t, b_hh) + rest)
    return h, state


def _layer_backward(ws, key, cell, relu, dh, batch_sizes, shards, h, state, h0, c0, w_hh_t,
                    reverse):
    """Return ``(dxproj, dhn)``: the gradient w.r.t. the input-side pre-activations, and
    for the GRU that w.r.t. ``W_hn h_prev + b_hn`` (None for rnn and lstm).

    The state-side gradient ``dhproj`` equals ``dxproj`` but in the GRU's n
    block, so only that block is stored (``_hh_weight_gradient``).
    Gradients stop at the initial states ``h0``/``c0`` (truncated BPTT).
    """
    if cell == "lstm":
        c, gates = state
        _run_sharded(lstm_backward, (dh, batch_sizes), shards, w_hh_t,
                     (h, c, gates, c0, w_hh_t, reverse))
        return gates, None  # the gates' buffer now holds dxproj
    # The forward's xproj is not read again once the forward is done: dxproj
    # takes its buffer (the same workspace key and shape), one (N, G*H)
    # array less at the peak.
    dxproj = ws.empty(_xproj_key(key), (dh.shape[0], w_hh_t.shape[1]), dh.dtype)
    dhn = None
    if cell == "rnn":
        kernel, rest = rnn_backward, (h, w_hh_t, reverse, relu, dxproj)
    else:
        gates, hn = state
        dhn = ws.empty(key + "dhn", h.shape, dxproj.dtype)
        kernel, rest = gru_backward, (h, gates, hn, h0, w_hh_t, reverse, dxproj, dhn)
    _run_sharded(kernel, (dh, batch_sizes), shards, w_hh_t, rest)
    return dxproj, dhn


# GEMMs of at least this many flops run as two row blocks side by side; the
# split depends on the shapes only, so results do not depend on the threads.
# Below it the second core does not pay: the two halves share memory
# bandwidth and caches, and with a thread pool each split cost a 60-90 us
# round trip.  A/B in one process, batch 32, with that pool: the bound at
# 8e6 -> 5e7 took an LSTM-32 step 1.74 -> 1.46 ms, GRU-32 1.76 -> 1.39,
# RNN-64 1.57 -> 1.19; at hidden 128 (dW_hh 210 MFLOP) the split still pays
# (8.5 vs 10.1 ms unsplit).  With the spinning helpers (a few us a hand-over)
# a bound of 1e7 moved LSTM-32 and GRU-32 steps within the noise (0.95-1.02x).
SPLIT_GEMM_FLOPS = 5e7
# ... or that touch at least this many values (operands and output, ~2.4 MB
# in float32).  The projections and [dW_ih | db_ih] of a few input features
# are bound by memory, not flops: at hidden 128 (1,600 x 9 @ 9 x 512, 15
# MFLOP) each took 0.5-0.66 ms on one thread.  A/B in one process, batch 32:
# LSTM-128 and GRU-128 steps 0.95-0.97x the time, LSTM-64 and GRU-64 at
# batch 64 0.95x; splitting from 3-4.5e5 values made LSTM-64 (410,000) 1.04x.
# With the spinning helpers and the batch's shard cuts in Numba, 4e5 split
# LSTM-64's and GRU-64's projections and weight-gradient GEMMs at batch 32
# (426,000-545,000 values): their steps 0.92-0.94x the time in three A/Bs,
# RNN-128 0.94-0.97x, LSTM-48, GRU-96 and LSTM-32 at batch 64 within noise.
SPLIT_GEMM_VALUES = 4e5
_SPLIT_MIN_ROWS = 64


def _matmul(a, b, out, accumulate=False, bias=None):
    """``out = a @ b`` (``out += a @ b`` if ``accumulate``), two row blocks in parallel when large.

    ``a`` may be a transposed view (``dxproj.T``): its row blocks are then
    strided views that BLAS reads in place.  ``bias`` is added to every row
    inside the blocks (the input projection's bias: a pass over all rows that
    would otherwise run on one thread).
    """
    m = a.shape[0]
    flops = 2.0 * m * a.shape[1] * b.shape[1]
    large = flops >= SPLIT_GEMM_FLOPS or a.size + b.size + out.size >= SPLIT_GEMM_VALUES
    if m < _SPLIT_MIN_ROWS or not large:
        # Whole: no closure and no dispatch (~3 us of a one-sequence predict).
        _matmul_rows(a, b, out, accumulate, bias)
        return
    run_halves(lambda lo, hi: _matmul_rows(a[lo:hi], b, out[lo:hi], accumulate, bias), m,
               split=True)


def _matmul_rows(a, b, out, accumulate, bias):
    """``_matmul`` of one row block."""
    if accumulate:
        out += a @ b
    else:
        np.matmul(a, b, out=out)
    if bias is not None:
        out += bias


def _shared_columns(dxproj, dhn):
    """How many leading columns of ``dhproj`` are ``dxproj``'s: all, or the GRU's r and z blocks."""
    return dxproj.shape[1] if dhn is None else dxproj.shape[1] - dhn.shape[1]


def _hh_weight_gradient(h_prev, dxproj, dhn, out):
    """``out = h_prev.T @ dhproj``, ``dW_hh.T`` as stored.

    ``dhproj`` is ``dxproj``, or for the GRU ``dxproj`` with ``dhn`` as its n
    block (``_layer_backward``).
    """
    shared = _shared_columns(dxproj, dhn)
    _matmul(h_prev.T, dxproj[:, :shared], out[:, :shared])
    if dhn is not None:
        _matmul(h_prev.T, dhn, out[:, shared:])


def _bias_rides_in_gemm(n_inputs, width):
    """Whether the input bias goes into the projection GEMM as a column of ones.

    Copying the layer input with a ones column costs a pass over
    ``n_inputs + 1`` values a row; it saves one over ``width`` (adding the
    bias to ``xproj``) and another (summing ``dxproj`` for the bias gradient).
    It also keeps one input feature off NumPy's ``matmul`` loop for an inner
    dimension of 1, which it does not hand to BLAS (277 us for 1,600 x 128,
    43 us with two features).
    """
    return 2 * (n_inputs + 1) <= width


def _with_ones(ws, key, inp, lead=0):
    """``[room | inp | 1]`` from the workspace, ``room`` being ``lead`` columns left unset."""
    n, k = inp.shape
    out = ws.empty(key, (n, lead + k + 1), inp.dtype)
    out[:, lead : lead + k] = inp
    out[:, lead + k] = 1
    return out


def _one_weight_gradient_gemm(arch):
    """Whether ``[dW_hh | dW_ih | db_ih].T`` comes from one GEMM, ``[h_prev | inp | 1].T @ dxproj``.

    It is written straight into the gradient's ``hh_ih_bias_T`` stack
    (``_params.Layout``).  When the input bias rides in the GEMMs
    (``_bias_rides_in_gemm``).  Only for the LSTM: GRU's ``dW_hh`` multiplies
    another gradient (``dhproj``), and for the simple RNN, whose gates are
    only ``hidden`` wide, the merged GEMM gained nothing (one thread, 1,600
    rows, 8 features: 68 against 66 us at hidden 32, 189 against 186 at 64;
    in the earlier orientation, ``dxproj.T @ [h_prev | inp | 1]``, it was
    slower: 67 against 55 us, 203 against 170).  For the LSTM
    the narrow ``[dW_ih | db_ih]`` GEMM over ``4 * hidden`` rows is the slow
    one (93 us of 245 at hidden 32, 1,600 rows) and the merged GEMM costs
    little more than ``dW_hh`` alone: 223 against 245 us at hidden 32, 699
    against 774 at 64, 7.2 against 7.8 ms for 3,200 rows of a 64-wide
    embedding at 128.
    """
    return arch.cell == "lstm"


def _all_live(batch):
    """Whether every sequence of the batch has at least one step (they are sorted by length)."""
    lengths = batch.lengths
    return lengths.shape[0] == 0 or lengths[-1] > 0


def _final_rows(batch):
    """Packed rows holding each sequence's final state, per direction.

    Forward: the last step; reverse: step 0 (the state after consuming the
    first step, torch's ``h_n`` order).  -1 for zero-length sequences.
    """
    return end_rows(batch.batch_sizes, batch.lengths)


def _scatter_add(scatters, rows, ids, g, name):
    """Add ``rows`` to the rows ``ids`` of ``g[name]``, or append that to ``scatters`` if a list."""
    if scatters is None:
        scatter_add_rows(rows, ids, g[name])
    else:
        scatters.append((name, rows, ids))


class _TrainingPlan(NamedTuple):
    """What training (in parts) needs of a layout (``Network._training_plan``)."""

    summed: list  # (start, stop) ranges of theta the parts' gradients are summed over
    summed_size: int  # their total length
    token_ranges: list  # (start, stop, penalised) of the token gradients (scatter-added)
    step_work: int  # the widest layer's multiply-adds per sequence and step
    halve_from: int  # the step work from which a batch of 32-63 runs as two parts
    penalised: np.ndarray  # (start, stop) rows: the L2 term's ranges in one call (add_l2)
    penalised_split: list  # (start, stop) of those from HALVES_MIN_SIZE: add_l2 by halves


# A many-to-one head of at most this many multiply-adds (sequences x head
# inputs x outputs) runs in two Numba loops, ``final_state_logits`` and
# ``final_state_head_backward``, in place of ~14 NumPy calls: the gather of
# the final states, three small GEMMs, the scaling, the sums and the scatter
# into the zeroed ``dh``.  One thread, forward and backward of the head
# alone: 16 x 32 x 1 4.5 against 11.4 us, 32 x 64 x 1 9.5 against 19.4, 200
# x 64 x 1 54 against 78, 32 x 32 x 10 15.6 against 14.4; 32 x 64 x 10 (20,480)
# 28 against 19 us: the logits' dot products are a chain of dependent adds.
# A/B of a training step in one process, batch 32, two threads: LSTM-32
# 0.94-0.975x the time, RNN-32 0.95x, GRU-32 0.98x, LSTM-64 0.97-0.985x.
LOOP_HEAD_WORK = 1 << 14


def _loop_head(n_sequences, arch):
    """Whether a many-to-one head's products are small enough for loops (``LOOP_HEAD_WORK``)."""
    return n_sequences * arch.n_head_inputs * arch.n_outputs <= LOOP_HEAD_WORK


def _head(p, feat):
    """Logits of the output layer for features ``feat`` (one row each)."""
    logits = feat @ p["coef"].T
    logits += p["intercept"]
    return logits


class Network(TrainingInParts):
    """A recurrent network: stacked (bi)directional cells and an output head.

    Parameters
    ----------
    layout : Layout
        Parameter layout (carries the Architecture).
    loss : {'binary', 'multiclass', 'squared'}
        Output head: sigmoid + log-loss, softmax + cross-entropy, identity +
        half squared error.
    per_step : bool
        Many-to-many (an output at every step) instead of many-to-one (an
        output from each sequence's final state).
    workspace : _Workspace, default=None
        Where per-row scratch arrays are kept between calls (a new one if
        None); never shared by two threads at once.
    """

    def __init__(self, layout, loss, per_step, workspace=None):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}")
        self.layout = layout
        self.arch = layout.arch
        self.loss = loss
        self.per_step = per_step
        self._ws = _Workspace() if workspace is None else workspace
        # Gradient entries that token input scatter-adds into (the rest are
        # assigned whole by chunk_loss_and_grad).
        arch = layout.arch
        if arch.gathers_weight_ih:
            self._scatter_targets = tuple(f"0.{d}.weight_ih_T" for d in range(arch.n_directions))
        elif arch.tokens:
            self._scatter_targets = ("embedding",)
        else:
            self._scatter_targets = ()
        # (array, its views) of the last two arrays unpacked: a fit passes the
        # same theta and gradient buffer every step.
        self._unpacked = ()
        # Per part of a sharded batch (see _parts.py): its network
        # (and so its workspace) and, from the second on, its gradient.
        self._part_networks = []
        self._part_gradients = []
        self._plan = None  # see _training_plan

    def _training_plan(self):
        """What training needs of the layout (``_TrainingPlan``), worked out on first use.

        The parts sum every gradient entry but the token gradients, whose
        scatter-adds go straight into one gradient; the L2 term goes to the
        other penalised entries, the small ones in one call.  Prediction builds a
        Network per call and needs none of it (~2 us of a ~100 us
        one-sequence predict).
        """
        if self._plan is None:
            summed = []
            for e in self.layout.entries:
                if e.name in self._scatter_targets:
                    continue
                if summed and summed[-1][1] == e.offset:
                    summed[-1][1] = e.offset + e.size
                else:
                    summed.append([e.offset, e.offset + e.size])
            tokens = [(e.offset, e.offset + e.size, e.penalised)
                      for e in self.layout.entries if e.name in self._scatter_targets]
            arch = self.arch
            # The token gradients start with their L2 term (_start_token_gradients).
            penalised = [(start, stop) for start, stop in self.layout.penalised_ranges
                         if (start, stop, True) not in tokens]
            self._plan = _TrainingPlan(
                summed,
                sum(stop - start for start, stop in summed),
                tokens,
                max(arch.n_gates * h**2 for h in arch.hidden_sizes),
                HALVE_STEP_WORK if arch.cell == "rnn" else GATED_PART_HALVE_STEP_WORK,
                np.array([r for r in penalised if r[1] - r[0] < HALVES_MIN_SIZE],
                         dtype=np.int64).reshape(-1, 2),
                [r for r in penalised if r[1] - r[0] >= HALVES_MIN_SIZE],
            )
        return self._plan

    def _unpack(self, flat):
        """``layout.unpack(flat)``, kept for the two arrays most recently unpacked.

        Unpacking builds ~10 views (~5 us, twice a training step).  Held by
        identity, which keeps ``flat`` alive, so the views can never point
        into memory that was freed and reused.
        """
        for held, views in self._unpacked:
            if held is flat:
                return views
        views = self.layout.unpack(flat)
        self._unpacked = (self._unpacked + ((flat, views),))[-2:]
        return views

    # -- forward ------------------------------------------------------------
    def forward(self, theta, batch, init=None, final_states=True, params=None):
        """Logits ``(B, n_outputs)`` in sorted order, or ``(N, n_outputs)`` packed.

        ``init``: initial states from ``final_states`` of a previous chunk of
        the same sequences (zeros if None).  ``params``: ``layout.unpack(theta)``
        when the caller keeps it from call to call (predict does: unpacking
        cost ~4 us of a ~60 us one-sequence forward).  Returns
        ``(logits, states)`` where ``states`` are each sequence's states after
        its last step here (None unless ``final_states``).
        """
        p = self._unpack(theta) if params is None else params
        init = self._initial_states(init, batch.n_sequences, p["coef"].dtype)
        logits, cache = self._forward(p, batch, keep=False, init=init)
        return logits, self._final_states(cache, batch, init) if final_states else None

    def _initial_states(self, init, n, dtype):
        """Per layer and direction ``(h0, c0)`` of shape (n, H), zeros by default."""
        if init is not None:
            return init
        states = []
        for layer, hidden in enumerate(self.arch.hidden_sizes):
            # Read only (the kernels read them, _final_states copies them):
            # one workspace array serves h0 and c0 of every direction.
            zeros = self._ws.zeros(f"{layer}.zero_states", (n, hidden), dtype)
            states.append([(zeros, zeros)] * self.arch.n_directions)
        return states

    def _final_states(self, cache, batch, init):
        """States after each sequence's last step in this batch (its init if it has none)."""
        caches, _, final = cache
        last = final[0] if final is not None else _final_rows(batch)[0]
        live = last >= 0
        states = []
        for layer, (_, _, outs, cell_states) in enumerate(caches):
            per_direction = []
            for d in range(self.arch.n_directions):
                h0, c0 = init[layer][d]
                h, c = h0.copy(), c0.copy()
                h[live] = outs[d][last[live]]
                if self.arch.cell == "lstm":
                    c[live] = cell_states[d][0][last[live]]
                per_direction.append((h, c))
            states.append(per_direction)
        return states

    def _forward(self, p, batch, keep, init):
        caches, inp = self._layers(p, batch.x, batch.batch_sizes, batch.shards, keep, init)
        if self.per_step:
            return _head(p, inp), (caches, inp, None)
        final = _final_rows(batch)
        logits, feat = self._final_state_head(p, caches[-1][2], final, _all_live(batch))
        return logits, (caches, feat, final)

    def _final_state_head(self, p, outs, final, all_live):
        """``(logits, feat)`` of a many-to-one head, ``feat`` being each sequence's final states.

        ``outs``: the last layer's output per direction; ``final``: the rows
        of the final states per direction (``_final_rows``), all >= 0 if
        ``all_live``.  Its gradients: ``_head_backward``, which takes the
        same branch for the same shapes.
        """
        arch = self.arch
        n = final[0].shape[0]
        dtype = outs[0].dtype
        if _loop_head(n, arch):
            feat = self._ws.empty("feat", (n, arch.n_head_inputs), dtype)
            logits = np.empty((n, arch.n_outputs), dtype=dtype)
            final_state_logits(outs[0], final[0], outs[-1], final[1], p["coef"],
                               p["intercept"], feat, logits)
            return logits, feat
        if arch.n_directions == 1 and all_live:
            # Every sequence has a final row: one gather, no masked copy.
            feat = np.take(outs[0], final[0], axis=0)
        else:
            feat = np.zeros((n, arch.n_head_inputs), dtype=dtype)
            hidden = arch.hidden_sizes[-1]
            for d, rows in enumerate(final[: arch.n_directions]):
                live = rows >= 0
                feat[live, d * hidden : (d + 1) * hidden] = outs[d][rows[live]]
        return _head(p, feat), feat

    def _head_backward(self, p, g, dlogits, wsum, feat, final, batch):
        """The head's gradients into ``g``, and the state gradient ``dh`` per direction.

        ``dlogits`` (weighted, not yet divided by ``wsum``) is divided in
        place.  Many-to-many: ``dh`` is ``dlogits @ coef`` row for row.
        Many-to-one: ``dh`` is zero but at the final rows, through the same
        loops or BLAS as ``_final_state_head`` chose for these shapes.
        """
        arch = self.arch
        hidden = arch.hidden_sizes[-1]
        dtype = dlogits.dtype
        if not self.per_step and _loop_head(batch.n_sequences, arch):
            dh = [self._ws.empty(f"dh{d}", (batch.n_rows, hidden), dtype)
                  for d in range(arch.n_directions)]
            final_state_head_backward(dlogits, dtype.type(wsum), feat, p["coef"], final[0],
                                      final[1], g["coef"], g["intercept"], dh[0], dh[-1])
            return dh
        dlogits /= dtype.type(wsum)
        g["coef"][...] = dlogits.T @ feat
        g["intercept"][...] = dlogits.sum(axis=0)
        dfeat = dlogits @ p["coef"]
        dh = []
        for d in range(arch.n_directions):
            block = dfeat[:, d * hidden : (d + 1) * hidden]
            if self.per_step:
                dh.append(np.ascontiguousarray(block))
                continue
            rows = final[d]
            dh_d = self._ws.zeros(f"dh{d}", (batch.n_rows, hidden), dtype)
            if _all_live(batch):  # no masks (~3 us a call)
                dh_d[rows] = block
            else:
                live = rows >= 0
                dh_d[rows[live]] = block[live]
            dh.append(dh_d)
        return dh

    def _layers(self, p, x, batch_sizes, shards, keep, init):
        """Every layer over the packed rows ``x``: ``(caches, last layer's output)``.

        ``shards(step_work)`` gives the shard boundaries (``PackedBatch.shards``);
        ``caches`` holds per layer ``(inp, wide, outs, states)``, the first
        two only if ``keep``.
        """
        arch = self.arch
        n_rows = x.shape[0]
        dtype = p["coef"].dtype
        caches = []
        ws = self._ws
        if arch.tokens and arch.embedding_dim is not None:
            inp = ws.empty("embedded", (n_rows, arch.embedding_dim), dtype)
            np.take(p["embedding"], x, axis=0, out=inp)
        else:
            inp = x
        for layer, hidden in enumerate(arch.hidden_sizes):
            outs, states = [], []
            width = arch.n_gates * hidden
            gathers = layer == 0 and arch.gathers_weight_ih
            # The input bias rides in the projection GEMM (and its gradient in
            # the dW_ih one) as a column of ones: no separate passes over
            # xproj and dxproj.  A/B, batch 32: LSTM-32 step 1.49 -> 1.38 ms,
            # LSTM-128 8.66 -> 8.34, RNN-128 2.28 -> 2.16.
            inp_ones = wide = None
            if not gathers and _bias_rides_in_gemm(inp.shape[1], width):
                # Room in front for each row's previous state, which the
                # backward fills (see _one_weight_gradient_gemm).
                lead = hidden if keep and _one_weight_gradient_gemm(arch) else 0
                wide = _with_ones(ws, f"{layer}.ones", inp, lead)
                inp_ones = wide[:, lead:]
            for d in range(arch.n_directions):
                key = f"{layer}.{d}."
                xproj = ws.empty(_xproj_key(key), (n_rows, width), dtype)
                if gathers:
                    gather_rows(p[key + "weight_ih_T"], x, p[key + "bias_ih"], xproj)
                elif inp_ones is not None:
                    _matmul(inp_ones, p[key + "ih_bias_T"], xproj)
                else:
                    _matmul(inp, p[key + "weight_ih_T"], xproj, bias=p[key + "bias_ih"])
                h0, c0 = init[layer][d]
                h, state = _layer_forward(
                    ws,
                    key,
                    arch.cell,
                    arch.relu,
                    xproj,
                    batch_sizes,
                    shards(arch.n_gates * hidden**2),
                    p[key + "weight_hh_T"],
                    p[key + "bias_hh"],
                    h0,
                    c0,
                    d == 1,
                )
                outs.append(h)
                states.append(state)
            if len(outs) == 1:
                out = outs[0]
            else:
                out = ws.empty(f"{layer}.out", (n_rows, 2 * hidden), dtype)
                np.concatenate(outs, axis=1, out=out)
            # Layer inputs are only needed for gradients; outputs and cell
            # states also give the final states of a chunk.
            caches.append((inp if keep else None, wide if keep else None, outs, states))
            inp = out
        return caches, inp

    def predict_equal_lengths(self, p, x, n):
        """Logits of ``n`` sequences of one length, from their packed rows ``x``.

        The one-shard case of ``forward`` (``n < SHARD_SEQUENCES``, zero
        initial states) without a ``PackedBatch``: every step holds all ``n``
        sequences, so the layout, the shard and the final rows are
        arithmetic.  Same layers, so the same logits, bit for bit, in
        ``forward``'s order (sorted order is input order for equal
        lengths).  For small predict calls: through the general path's
        plumbing (chunks, packing, final-row masks) one LSTM-64 sequence of
        50 steps took ~1.3x as long.
        """
        n_rows = x.shape[0]
        length = n_rows // n
        dtype = p["coef"].dtype
        batch_sizes = np.empty(length, dtype=np.int64)
        batch_sizes.fill(n)
        bounds = np.array([0, n], dtype=np.int64)
        init = self._initial_states(None, n, dtype)
        caches, inp = self._layers(p, x, batch_sizes, lambda step_work: bounds, False, init)
        if self.per_step:
            return _head(p, inp)
        # Final states: the last step's rows forward, the first's in reverse.
        final = (np.arange(n_rows - n, n_rows), np.arange(n))
        return self._final_state_head(p, caches[-1][2], final, True)[0]

    # -- loss and gradient --------------------------------------------------
    def head_loss(self, logits, y, w):
        """Weighted loss sum, weight total and ``dlogits`` (already weighted)."""
        n = logits.shape[0]
        if w is None:
            w = self._ws.empty("ones", (n,), logits.dtype)
            w.fill(1)
            wsum = float(n)
        else:
            wsum = float(np.sum(w, dtype=np.float64))
        dz = np.empty_like(logits)
        if self.loss == "binary":
            total = binary_log_loss(logits.reshape(-1), y, w, dz.reshape(-1))
        elif self.loss == "multiclass":
            total = softmax_cross_entropy(logits, y, w, dz)
        else:
            total = squared_error(logits, y, w, dz)
        return total, wsum, dz

    def loss_and_grad(self, theta, batch, alpha=0.0, out=None):
        """Mean weighted loss (+ L2) on ``batch`` and its gradient w.r.t. ``theta``.

        As in scikit-learn's MLP, the loss is the weighted mean over rows
        (sequences, or steps for many-to-many) and the L2 term
        ``alpha / 2 * ||W||^2`` is divided by the batch's weight total.
        ``out``: an array like ``theta`` to write the gradient into (and
        return), its contents ignored; a fresh one if None.
        """
        loss, grad, _ = self.chunk_loss_and_grad(theta, batch, alpha, final_states=False,
                                                 out=out)
        return loss, grad

    def chunk_loss_and_grad(self, theta, batch, alpha=0.0, init=None, normalizer=None,
                            final_states=True, out=None, scatters=None):
        """``loss_and_grad`` of one chunk of steps, for truncated BPTT.

        ``init`` carries the states of the previous chunk (gradients stop
        there); ``normalizer`` is the weight total of the whole mini-batch, so
        chunk losses and gradients add up to the mini-batch's.  Returns
        ``(loss, grad, final_states)``, the last None unless asked for.
        ``scatters``: a list to append the token gradients' scatter-adds to,
        as ``(entry name, rows, token ids)``, instead of making them; the
        entries they go to are then left as they were in ``out`` (a part of a
        batch: ``_parts_loss_and_grad``).
        """
        bounds = self._parts(theta, batch)
        if bounds is not None:
            return self._parts_loss_and_grad(theta, batch, bounds, alpha, init, normalizer,
                                             final_states, out)
        layout, arch = self.layout, self.arch
        p = self._unpack(theta)
        init = self._initial_states(init, batch.n_sequences, theta.dtype)
        logits, cache = self._forward(p, batch, keep=True, init=init)
        caches, feat, final = cache
        total, wsum, dlogits = self.head_loss(logits, batch.y, batch.w)
        if normalizer is not None:
            wsum = normalizer
        if wsum <= 0:
            raise ValueError("the batch has zero total sample weight.")
        loss = total / wsum

        if out is None:
            grad = np.zeros_like(theta)
            g = layout.unpack(grad)  # a fresh array: not worth keeping
        else:
            # Every entry is overwritten below but those the token gradients
            # are scatter-added into: only they need zeros.  A fresh
            # vocabulary-wide zeros_like a step was 40 % of a 100k-token step
            # without an embedding (38 of 94 ms).
            grad = out
            g = self._unpack(grad)
        started_squares = 0.0
        if scatters is None:
            started_squares = self._start_token_gradients(theta, grad, alpha, wsum)
        dh = self._head_backward(p, g, dlogits, wsum, feat, final, batch)

        for layer in range(arch.n_layers - 1, -1, -1):
            inp, wide, outs, states = caches[layer]
            needs_dinp = layer > 0 or (arch.tokens and arch.embedding_dim is not None)
            dinp = self._ws.empty(f"{layer}.dinp", inp.shape, inp.dtype) if needs_dinp else None
            for d in range(arch.n_directions):
                key = f"{layer}.{d}."
                reverse = d == 1
                h0, c0 = init[layer][d]
                dxproj, dhn = _layer_backward(
                    self._ws,
                    key,
                    arch.cell,
                    arch.relu,
                    dh[d],
                    batch.batch_sizes,
                    batch.shards(arch.n_gates * arch.hidden_sizes[layer] ** 2),
                    outs[d],
                    states[d],
                    h0,
                    c0,
                    p[key + "weight_hh_T"],
                    reverse,
                )
                # The forward left ``lead`` columns for h_prev in front of
                # [inp | 1] (0 unless _one_weight_gradient_gemm).
                lead = 0 if wide is None else wide.shape[1] - inp.shape[1] - 1
                if lead:  # the directions take turns filling them
                    previous_states(outs[d], h0, batch.batch_sizes, reverse, wide)
                else:
                    h_prev = self._ws.empty(key + "h_prev", outs[d].shape, outs[d].dtype)
                    previous_states(outs[d], h0, batch.batch_sizes, reverse, h_prev)
                    _hh_weight_gradient(h_prev, dxproj, dhn, g[key + "weight_hh_T"])
                if layer == 0 and arch.gathers_weight_ih:
                    _scatter_add(scatters, dxproj, batch.x, g, key + "weight_ih_T")
                elif wide is not None:
                    # [dW_hh | dW_ih | db_ih].T (or [dW_ih | db_ih].T) in one
                    # pass over dxproj, straight into the stored layout.
                    stack = key + ("hh_ih_bias_T" if lead else "ih_bias_T")
                    _matmul(wide.T, dxproj, g[stack])
                else:
                    _matmul(inp.T, dxproj, g[key + "weight_ih_T"])
                if wide is None:
                    g[key + "bias_ih"][...] = dxproj.sum(axis=0)
                # db_hh is db_ih but in the GRU's n block: a copy, where one
                # column sum over every row is ~50 us at hidden 32.
                shared = _shared_columns(dxproj, dhn)
                g[key + "bias_hh"][:shared] = g[key + "bias_ih"][:shared]
                if dhn is not None:
                    g[key + "bias_hh"][shared:] = dhn.sum(axis=0)
                if needs_dinp:
                    # The first direction writes dinp, the second adds to it: no
                    # zeroing pass, and no temporary for a product added to zeros.
                    _matmul(dxproj, p[key + "weight_ih_T"].T, dinp, accumulate=d > 0)
            if layer > 0:
                below = arch.hidden_sizes[layer - 1]
                dh = [
                    np.ascontiguousarray(dinp[:, d * below : (d + 1) * below])
                    for d in range(arch.n_directions)
                ]
            elif needs_dinp:
                _scatter_add(scatters, dinp, batch.x, g, "embedding")

        loss += self._add_penalty(theta, grad, alpha, wsum, started_squares)
        states = self._final_states(cache, batch, init) if final_states else None
        return loss, grad, states

    def _parts_in_one_call(self, ends, init, final_states):
        """Whether the parts of a batch cut at ``ends`` run as one Numba call each (``_part.py``).

        For one forward LSTM layer on dense input with a many-to-one head in
        loops and the input bias in its projection GEMM, from zero initial
        states; every other network and truncated BPTT's carried states take
        ``chunk_loss_and_grad`` part by part.
        """
        arch = self.arch
        if (arch.cell != "lstm" or arch.n_layers != 1 or arch.bidirectional or arch.tokens
                or self.per_step or init is not None or final_states):
            return False
        largest = max(hi - lo for lo, hi in zip(ends[:-1], ends[1:]))
        return (_bias_rides_in_gemm(arch.n_inputs, arch.n_gates * arch.hidden_sizes[0])
                and _loop_head(largest, arch))

    def _part_in_one_call(self, theta, batch, lo, hi, normalizer, grad):
        """``chunk_loss_and_grad`` of sorted sequences ``lo:hi`` of ``batch``, as one call.

        What ``_parts_in_one_call`` allows, into ``grad`` (every entry
        written), without the L2 term.  Returns ``(loss, grad, None)``.
        """
        p = self._unpack(theta)
        g = self._unpack(grad)
        hidden = self.arch.hidden_sizes[0]
        dtype = theta.dtype
        lengths = batch.lengths[lo:hi]
        n_rows = int(lengths.sum())
        # Zero-length sequences sort last: the part's kernel shard is its live ones.
        n_live = hi - lo if lengths[-1] > 0 else int(np.count_nonzero(lengths))
        # The Python path's workspace keys (layer 0, direction 0): a part's
        # network that also runs a batch that way (truncated BPTT) reuses the
        # same buffers, not a second set.
        ws, key = self._ws, "0.0."
        rows = (n_rows, hidden)
        if self.loss == "multiclass":
            y_float, y_int = np.empty((0, 1), dtype=dtype), batch.y[lo:hi]
        else:
            y_float, y_int = batch.y[lo:hi].reshape(hi - lo, -1), np.empty(0, dtype=np.int64)
        if batch.w is None:
            w = ws.empty("ones", (hi - lo,), dtype)
            w.fill(1)
        else:
            w = batch.w[lo:hi]
        total = lstm_part_loss_and_grad(
            batch.x, batch.batch_sizes, lengths, lo, hi,
            recurrent_blocks((0, n_live), 0, p[key + "weight_hh_T"]), False,
            LOSSES.index(self.loss), y_float, y_int, w, normalizer,
            p[key + "ih_bias_T"], p[key + "weight_hh_T"], p[key + "bias_hh"], p["coef"],
            p["intercept"],
            ws.zeros("0.zero_states", (hi - lo, hidden), dtype),
            ws.empty("0.inputs", (n_rows, batch.x.shape[1] + 1), dtype),
            ws.empty("0.ones", (n_rows, hidden + batch.x.shape[1] + 1), dtype),
            ws.empty(_xproj_key(key), (n_rows, 4 * hidden), dtype),
            ws.empty(key + "h", rows, dtype), ws.empty(key + "c", rows, dtype),
            ws.empty("dh0", rows, dtype),
            g[key + "hh_ih_bias_T"], g[key + "bias_hh"], g["coef"], g["intercept"],
        )
        return total / normalizer, grad, None

    def _start_token_gradients(self, theta, grad, alpha, wsum):
        """Set the token gradients to the L2 term's gradient (or zeros) before their scatter-adds.

        One pass over a vocabulary-wide array where zeroing it and adding the
        term later made two; the weights' sum of squares, which the term's
        loss needs, is taken in the same pass, half by half while each half
        is in cache.  Returns that sum: ``_add_penalty`` leaves these entries
        to it.
        """
        squares = 0.0
        for start, stop, penalised in self._training_plan().token_ranges:
            target = grad[start:stop]
            if not (alpha and penalised):
                target.fill(0)
                continue
            scale = alpha / wsum
            weights = theta[start:stop]
            halves = {}

            def start_half(lo, hi, w=weights, g=target, halves=halves, scale=scale):
                np.multiply(w[lo:hi], scale, out=g[lo:hi])
                halves[lo] = float(w[lo:hi] @ w[lo:hi])

            run_halves(start_half, stop - start)
            squares += sum(halves[lo] for lo in sorted(halves))  # in a fixed order
        return squares

    def _add_penalty(self, theta, grad, alpha, wsum, started_squares):
        """Add the L2 term's gradient to ``grad``; return its loss.

        The token gradients already hold their share, and ``started_squares``
        is their weights' sum of squares (``_start_token_gradients``).
        """
        if not alpha:
            return 0.0
        # In place over the weight matrices: no theta-sized temporaries,
        # which matter when weight_ih spans a 10,000-token vocabulary.
        plan = self._training_plan()
        scale = alpha / wsum
        squares = started_squares + add_l2(theta, grad, plan.penalised, scale)
        for start, stop in plan.penalised_split:
            halves = {}

            def add_half(lo, hi, start=start, halves=halves):
                bounds = np.array([[start + lo, start + hi]], dtype=np.int64)
                halves[lo] = add_l2(theta, grad, bounds, scale)

            run_halves(add_half, stop - start)
            squares += sum(halves[lo] for lo in sorted(halves))  # in a fixed order
        return 0.5 * alpha * squares / wsum
