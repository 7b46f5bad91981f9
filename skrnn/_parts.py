"""A training batch run as parts: each a packed batch of its own, on one thread.

``Network`` (``_network.py``) inherits these methods: each part runs through
a ``Network`` of its own (``chunk_loss_and_grad``), and the batch's network
sums the parts' gradients and adds the L2 term once.  docs/internals.md,
"Parts", says why and how.
"""

import numpy as np

from ._batching import batch_part
from ._kernels._embedding import scatter_add_rows
from ._threads import CHUNK_SETTLE_S, run_chunks

# A training batch of several shards runs as that many parts, each a packed
# batch of its own that one thread projects, runs and differentiates whole;
# only the parts' gradients are summed, in part order.  With shards cut
# inside each kernel and the hoisted GEMMs cut into row halves (halves of the
# time axis), half of what one core wrote the other read next: in an LSTM-64
# step (batch 32, two shards) the projection and weight-gradient GEMMs took
# 745-794 us against 464 us alone.  A/B in one process, batch 32: LSTM-64
# 0.91-0.92x the time, GRU-64 0.87x, RNN-128 0.93x, LSTM-128 0.96x, GRU-128
# 0.91x, hidden 512 0.97-1.01x.  Each part past the first keeps a gradient
# like theta and writes all of it but the token gradients (scattered into
# the one gradient); past this many bytes written the batch runs as one
# part, sharded inside its kernels.
PART_GRADIENT_BYTES = 16 << 20

# A part run as one Numba call (``Network._parts_in_one_call``) holds the GIL
# only for ~12 us of arguments before it, so the helper's lane waits this
# long before it takes the GIL, not ``CHUNK_SETTLE_S``: a helper finding the
# GIL still taken sleeps ~23 us.  LSTM-32 steps, batch 32, toggled in one
# process: 20 us 0.95-0.97x the time of 10 us (25 and 30 us alike, 45
# slower); LSTM-64 within 1 %.
ONE_CALL_SETTLE_S = 20e-6


class TrainingInParts:
    """``Network``'s methods that split a training batch into parts (a mixin).

    Expects of the class it is mixed into: ``layout``, ``arch``, ``loss``,
    ``per_step``, ``_scatter_targets``, ``_part_networks`` and
    ``_part_gradients`` (lists, empty at first), ``_unpack``,
    ``_training_plan``, ``_start_token_gradients``, ``_add_penalty``,
    ``_parts_in_one_call``, ``_part_in_one_call`` and
    ``chunk_loss_and_grad``, and a constructor taking ``(layout, loss,
    per_step)``.
    """

    def _parts(self, theta, batch):
        """Boundaries of the parts ``batch`` runs as (``PART_GRADIENT_BYTES``), or None for one.

        The parts are the batch's shards for the widest layer (a gated
        cell's halved from less work a step than kernel shards:
        ``GATED_PART_HALVE_STEP_WORK``), so they depend on the batch and the
        architecture only, never on the thread count.
        """
        if batch.whole:
            return None
        plan = self._training_plan()
        bounds = batch.shards(plan.step_work, plan.halve_from)
        n_parts = bounds.shape[0] - 1
        written = (n_parts - 1) * plan.summed_size * theta.itemsize
        if n_parts < 2 or written > PART_GRADIENT_BYTES:
            return None
        return bounds

    def _parts_loss_and_grad(self, theta, batch, bounds, alpha, init, normalizer,
                             final_states, out):
        """``chunk_loss_and_grad`` of a batch run as parts side by side."""
        if normalizer is None:
            normalizer = batch.weight_total(self.per_step)
        if normalizer <= 0:
            raise ValueError("the batch has zero total sample weight.")
        n_parts = bounds.shape[0] - 1
        # Zero-length sequences (sorted last, in no shard) go with the last part.
        ends = bounds.tolist()
        ends[-1] = batch.n_sequences
        grad = np.empty_like(theta) if out is None else out
        grads = [grad] + self._extra_part_gradients(theta, n_parts - 1)
        while len(self._part_networks) < n_parts:
            self._part_networks.append(type(self)(self.layout, self.loss, self.per_step))
        results = [None] * n_parts
        scatters = [[] for _ in range(n_parts)]
        in_one_call = self._parts_in_one_call(ends, init, final_states)

        def run_part(k, lane):
            lo, hi = ends[k], ends[k + 1]
            if in_one_call:
                results[k] = self._part_networks[k]._part_in_one_call(
                    theta, batch, lo, hi, normalizer, grads[k]
                )
                return
            part = batch_part(batch, lo, hi, self.per_step)
            part_init = None if init is None else [
                [(h0[lo:hi], c0[lo:hi]) for h0, c0 in layer] for layer in init
            ]
            results[k] = self._part_networks[k].chunk_loss_and_grad(
                theta, part, 0.0, part_init, normalizer, final_states, grads[k], scatters[k]
            )

        run_chunks(run_part, n_parts, per_lane=1,
                   settle_s=ONE_CALL_SETTLE_S if in_one_call else CHUNK_SETTLE_S)
        # A fixed order throughout: the sums never depend on the threads.
        loss = 0.0
        for k in range(n_parts):
            loss += results[k][0]
            if k:
                for start, stop in self._training_plan().summed:
                    grad[start:stop] += grads[k][start:stop]
        # Token gradients: every part's rows straight into the one gradient
        # (read from the parts' workspaces, which no other call uses before
        # the next batch), so no vocabulary-wide array is zeroed or summed
        # per part.
        started_squares = self._start_token_gradients(theta, grad, alpha, normalizer)
        if self._scatter_targets:
            # A fresh array is not worth keeping views of (see _unpack).
            g = self.layout.unpack(grad) if out is None else self._unpack(grad)
            for part_scatters in scatters:
                for name, rows, ids in part_scatters:
                    scatter_add_rows(rows, ids, g[name])
        loss += self._add_penalty(theta, grad, alpha, normalizer, started_squares)
        states = None
        if final_states:
            states = [
                [tuple(np.concatenate([r[2][layer][d][i] for r in results]) for i in range(2))
                 for d in range(self.arch.n_directions)]
                for layer in range(self.arch.n_layers)
            ]
        return loss, grad, states

    def _extra_part_gradients(self, theta, n):
        """``n`` gradient buffers like ``theta``, kept from one batch to the next."""
        kept = self._part_gradients
        if kept and (kept[0].shape != theta.shape or kept[0].dtype != theta.dtype):
            kept.clear()
        while len(kept) < n:
            kept.append(np.empty_like(theta))
        return kept[:n]
