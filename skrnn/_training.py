"""The training loop: epochs of shuffled mini-batches, early stopping, bookkeeping.

Small named steps in the manner of skorch (``fit_loop`` -> ``run_single_epoch``
-> ``train_step``) with the semantics of scikit-learn's ``MLPClassifier``
(``_fit_stochastic`` / ``_update_no_improvement_count``).  The functions read
the estimator's hyper-parameters and write its fitted bookkeeping attributes
(``loss_curve_``, ``n_iter_``, ...); the weights travel as a flat ``theta``.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._batching import (SHARD_SEQUENCES, batch_plan, chunk_ranges, chunk_rows, pack_batch,
                        time_chunks)
from ._kernels._packing import pack_rows
from ._network import PREDICT_WORKSPACE_BYTES, Network, thread_workspace
from ._optimizers import AdamOptimizer, SGDOptimizer
from ._threads import run_chunks

__all__ = ["fit_loop", "predict_outputs"]


# Steps per chunk when predicting with a unidirectional network: activations
# are kept for one chunk at a time, so memory does not grow with T.
PREDICT_CHUNK_STEPS = 1024


def _prefix_states(states, n):
    return [[(h[:n], c[:n]) for h, c in layer] for layer in states]


def _streamed_forward(network, theta, batch, size, params=None):
    """Outputs of a unidirectional network, computed ``size`` steps at a time."""
    per_step = network.per_step
    n_out = network.arch.n_outputs
    out = np.empty((batch.n_rows if per_step else batch.n_sequences, n_out), theta.dtype)
    states = None
    r0 = 0
    for ends_here, chunk in time_chunks(batch, size, per_step, theta.dtype):
        init = None if states is None else _prefix_states(states, chunk.n_sequences)
        logits, states = network.forward(theta, chunk, init, params=params)
        if per_step:
            out[r0 : r0 + chunk.n_rows] = logits
            r0 += chunk.n_rows
        else:
            done = np.flatnonzero(ends_here)
            out[done] = logits[done]
    return out


def predict_outputs(network, theta, seqs, idx=None, params=None):
    """Network outputs (logits) for sequences ``idx`` (all by default).

    Many-to-one: ``(len(idx), n_outputs)`` in ``idx`` order.  Many-to-many:
    ``(total steps, n_outputs)``, the steps of ``idx``'s sequences
    concatenated in ``idx`` order.  Works in length-sorted chunks of bounded
    size; fewer than ``SHARD_SEQUENCES`` equal-length sequences skip the
    chunking (``Network.predict_equal_lengths``, same outputs).  A
    sequence's output depends on its chunk-mates only in the last
    bits (how many rows share a BLAS call; e.g. one sequence alone vs in a
    batch of 64 at hidden 64, 6e-8 in float32 probabilities).  ``params``
    is ``network.layout.unpack(theta)``, if the caller keeps one.
    """
    if idx is None and _equal_and_few(network, seqs):
        return _predict_equal_lengths(network, theta, seqs, params)
    if idx is None:
        lengths = seqs.lengths
    else:
        idx = np.asarray(idx, dtype=np.int64)
        lengths = seqs.offsets[idx + 1] - seqs.offsets[idx]
    n_out = network.arch.n_outputs
    if network.per_step:
        out_offsets = np.zeros(lengths.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths, out=out_offsets[1:])
        out = np.empty((int(out_offsets[-1]), n_out), dtype=theta.dtype)
    else:
        out = np.empty((lengths.shape[0], n_out), dtype=theta.dtype)
    arch = network.arch
    stream = not arch.bidirectional
    ranges = chunk_ranges(lengths, chunk_rows(arch.n_gates * max(arch.hidden_sizes)))
    # One network (workspace) per lane: run_chunks may run two chunks at once.
    networks = {0: network}

    def chunk(k, lane):
        start, stop = ranges[k]
        net = networks.get(lane)
        if net is None:
            # The lane's own thread's workspace (kept between calls).
            net = networks[lane] = Network(network.layout, network.loss, network.per_step,
                                           thread_workspace())
        batch = pack_batch(seqs, np.arange(start, stop) if idx is None else idx[start:stop])
        if stream and batch.batch_sizes.shape[0] > PREDICT_CHUNK_STEPS:
            logits = _streamed_forward(net, theta, batch, PREDICT_CHUNK_STEPS, params)
        else:
            logits, _ = net.forward(theta, batch, final_states=False, params=params)
        if lane:  # this lane's thread's workspace; lane 0's belongs to the caller
            thread_workspace().trim(PREDICT_WORKSPACE_BYTES)
        # Rows of the chunk's sequences in sorted order (``order`` counts
        # from the chunk's first sequence).
        if net.per_step:
            dest = pack_rows(out_offsets, start + batch.order, batch.batch_sizes)
            out[dest] = logits
        else:
            out[start:stop][batch.order] = logits

    run_chunks(chunk, len(ranges))
    return out


def _equal_and_few(network, seqs):
    """Whether ``seqs`` can take ``Network.predict_equal_lengths``.

    Sequences of one non-zero length, fewer than make two shards, that
    ``predict_outputs`` would run as one chunk, unstreamed: the cases where
    the shortcut computes exactly what the general path does.
    """
    n = seqs.n_samples
    if not 0 < n < SHARD_SEQUENCES:
        return False
    length = seqs.uniform_length
    if not length:
        return False
    arch = network.arch
    if not arch.bidirectional and length > PREDICT_CHUNK_STEPS:
        return False
    return (n - 1) * length < chunk_rows(arch.n_gates * max(arch.hidden_sizes))


def _predict_equal_lengths(network, theta, seqs, params):
    """``predict_outputs`` through ``Network.predict_equal_lengths``."""
    n = seqs.n_samples
    values = seqs.values
    if n == 1:
        x = values  # one sequence: its rows are already time-major
    else:
        length = values.shape[0] // n
        tail = values.shape[1:]
        x = values.reshape((n, length) + tail).swapaxes(0, 1).reshape((n * length,) + tail)
    p = network.layout.unpack(theta) if params is None else params
    logits = network.predict_equal_lengths(p, x, n)
    if network.per_step and n > 1:
        # Time-major rows back to each sequence's steps in turn.
        k = logits.shape[1]
        logits = logits.reshape(-1, n, k).swapaxes(0, 1).reshape(-1, k)
    return logits


def _resolve_batch_size(est, n_samples):
    if est.batch_size == "auto":
        return min(32, n_samples)
    if est.batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going "
            "to be clipped",
            UserWarning,
        )
    return int(np.clip(est.batch_size, 1, n_samples))


def _make_optimizer(est, n_params, dtype):
    if est.solver == "adam":
        return AdamOptimizer(
            n_params, dtype, est.learning_rate_init, est.beta_1, est.beta_2, est.epsilon
        )
    return SGDOptimizer(
        n_params,
        dtype,
        est.learning_rate_init,
        est.learning_rate,
        est.momentum,
        est.nesterovs_momentum,
        est.power_t,
    )


def _split_validation(est, seqs, stratify, rng):
    """Train and validation sequence indices for early stopping."""
    n = seqs.n_samples
    n_val = int(np.ceil(est.validation_fraction * n))
    if n_val < 1 or n - n_val < 1:
        raise ValueError(
            f"early_stopping with validation_fraction={est.validation_fraction} "
            f"leaves {n_val} validation and {n - n_val} training sequences out of "
            f"{n}; both must be at least 1."
        )
    # Imported here: sklearn.model_selection (with sklearn.metrics) took 30-60
    # ms of `import skrnn`, whose target with a first fit is 1.5 s.
    from sklearn.model_selection import train_test_split

    seed = rng.randint(np.iinfo(np.int32).max)
    train, val = train_test_split(
        np.arange(n), test_size=n_val, random_state=seed, stratify=stratify
    )
    return np.sort(train), np.sort(val)


def _check_finite(loss, grad_norm, est):
    if np.isfinite(loss) and np.isfinite(grad_norm):
        return
    clip = (
        "gradient clipping is off (max_grad_norm=None); try max_grad_norm=1.0"
        if est.max_grad_norm is None
        else f"even with max_grad_norm={est.max_grad_norm}"
    )
    raise ValueError(
        f"Training diverged: the loss or its gradient became non-finite "
        f"(loss={loss}, gradient norm={grad_norm}) at epoch {est.n_iter_ + 1}. "
        f"The learning rate (learning_rate_init={est.learning_rate_init}) is "
        f"probably too large, {clip}; also check the scale of X and y. The "
        f"estimator was left as it was before this fit."
    )


def _truncated_loss_and_grad(network, theta, batch, alpha, size, out):
    """Loss and gradient of a mini-batch by truncated BPTT over chunks of ``size`` steps.

    States flow forward across chunks, gradients stop at chunk boundaries;
    chunk losses share the mini-batch's weight total, so with ``size`` at
    least the longest sequence this equals full BPTT.  The gradient is
    summed into ``out``.
    """
    normalizer = batch.weight_total(network.per_step)
    chunks = list(time_chunks(batch, size, network.per_step, theta.dtype))
    out.fill(0)
    total, grad, states = 0.0, out, None
    for k, (_, chunk) in enumerate(chunks):
        init = None if states is None else _prefix_states(states, chunk.n_sequences)
        last = k == len(chunks) - 1  # the L2 term counts once per mini-batch
        loss, g, states = network.chunk_loss_and_grad(
            theta, chunk, alpha if last else 0.0, init, normalizer
        )
        total += loss
        grad += g
    return total, grad


def train_step(est, network, theta, batch, optimizer, grad):
    """One forward/backward pass and optimizer update; returns (loss, weight total).

    ``grad``: an array like ``theta`` that receives the gradient (its
    contents are ignored), kept by the caller from step to step.
    """
    size = est.bptt_steps
    # Overflow shows up as a non-finite loss or gradient, which _check_finite
    # turns into one clear error; numpy's RuntimeWarnings before it only add noise.
    with np.errstate(over="ignore", invalid="ignore"):
        if size is not None and batch.batch_sizes.shape[0] > size:
            loss, grad = _truncated_loss_and_grad(network, theta, batch, est.alpha, size, grad)
        else:
            loss, grad = network.loss_and_grad(theta, batch, est.alpha, out=grad)
        norm = float(np.sqrt(grad @ grad))
    _check_finite(loss, norm, est)
    if est.max_grad_norm is not None and norm > est.max_grad_norm:
        grad *= grad.dtype.type(est.max_grad_norm / norm)
    optimizer.update_params(theta, grad)
    return loss, batch.weight_total(network.per_step)


def run_single_epoch(est, network, theta, seqs, y, w, train_idx, optimizer, rng, batch_size,
                     grad):
    """One pass over the training sequences; returns the weighted mean loss.

    ``grad`` is ``train_step``'s gradient buffer.
    """
    plan = batch_plan(train_idx.shape[0], batch_size, rng if est.shuffle else None)
    total, wtotal = 0.0, 0.0
    for positions in plan:
        batch = pack_batch(seqs, train_idx[positions], y=y, w=w, per_step=network.per_step)
        if batch.y.shape[0] == 0:
            continue  # only zero-length sequences in a many-to-many batch
        if batch.w is not None and not np.any(batch.w > 0):
            # Weights count repetitions: a batch of zero-weight sequences is
            # an empty batch, with no loss to follow (its mean is 0 / 0).
            continue
        loss, wsum = train_step(est, network, theta, batch, optimizer, grad)
        total += loss * wsum
        wtotal += wsum
    return total / wtotal if wtotal > 0 else 0.0


def _validation_score(est, score, network, theta, seqs, val_idx):
    """Early stopping's score of the held-out sequences; an undefined one is an error.

    R² of one sequence, or a tagger's accuracy over held-out sequences
    without steps, is NaN: it never beats the first "best" score, so the
    fit returned the initial weights.  The warnings sklearn and NumPy give
    on the way would only precede the error.
    """
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")
        value = score(predict_outputs(network, theta, seqs, val_idx), val_idx)
    if not np.isfinite(value):
        raise ValueError(
            f"early_stopping's validation score is undefined ({value}) on the "
            f"{val_idx.shape[0]} held-out sequences (validation_fraction="
            f"{est.validation_fraction}): R² needs at least two sequences, a "
            "tagger's accuracy at least one step. Raise validation_fraction, pass "
            "more sequences, or set early_stopping=False."
        )
    return value


def _update_no_improvement_count(est, theta, val_score):
    if val_score is not None:
        est.validation_scores_.append(val_score)
        if val_score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if val_score > est.best_validation_score_:
            est.best_validation_score_ = val_score
            est._best_theta = theta.copy()
    else:
        if est.loss_curve_[-1] > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]


def fit_loop(
    est, network, theta, seqs, y, w, *, incremental, first_pass, rng, score, stratify=None
):
    """Train ``theta`` in place for up to ``max_iter`` epochs (one if incremental).

    ``y``/``w`` are indexed by sequence (many-to-one) or by row of
    ``seqs.values`` (many-to-many).  ``score(outputs, idx)`` rates the
    outputs (``predict_outputs``) of validation sequences ``idx`` for early
    stopping; higher is better.
    """
    early_stopping = est.early_stopping and not incremental  # partial_fit refuses it
    if first_pass:
        est.loss_curve_ = []
        est.t_ = 0
        est._no_improvement_count = 0
    # The stopping bookkeeping of this mode, also when a warm start or a
    # partial_fit turns early stopping on or off since the last fit.
    if early_stopping and (first_pass or est.validation_scores_ is None):
        est.validation_scores_ = []
        est.best_validation_score_ = -np.inf
        est.best_loss_ = None
    elif not early_stopping and (first_pass or est.best_loss_ is None):
        est.validation_scores_ = None
        est.best_validation_score_ = None
        est.best_loss_ = np.inf
    optimizer = getattr(est, "_optimizer", None)
    # partial_fit continues with the optimizer of the fitted network only;
    # its Numba updates do not check bounds, so one sized for another
    # network must never meet this theta.
    if first_pass or not incremental or optimizer is None or not optimizer.fits(theta):
        optimizer = est._optimizer = _make_optimizer(est, theta.shape[0], theta.dtype)

    if early_stopping:
        train_idx, val_idx = _split_validation(est, seqs, stratify, rng)
        est._best_theta = theta.copy()
    else:
        train_idx, val_idx = np.arange(seqs.n_samples), None

    n_train = train_idx.shape[0]
    batch_size = _resolve_batch_size(est, n_train)  # warns once a fit, as MLP does
    # One gradient buffer for the fit: a fresh one per step cost a
    # vocabulary-wide allocation and its page faults with token input.
    grad = np.empty_like(theta)
    max_epochs = 1 if incremental else est.max_iter
    est.n_iter_ = 0
    try:
        for _ in range(max_epochs):
            start = time.perf_counter()
            loss = run_single_epoch(
                est, network, theta, seqs, y, w, train_idx, optimizer, rng, batch_size, grad
            )
            est.n_iter_ += 1
            est.t_ += n_train
            est.loss_curve_.append(loss)
            val_score = None
            if early_stopping:
                val_score = _validation_score(est, score, network, theta, seqs, val_idx)
            _update_no_improvement_count(est, theta, val_score)
            optimizer.iteration_ends(est.t_)
            if est.verbose:
                line = f"Epoch {est.n_iter_}, loss = {loss:.8f}"
                if val_score is not None:
                    line += f", validation score = {val_score:.6f}"
                print(line + f", time = {time.perf_counter() - start:.2f}s")
            if incremental:
                break
            if est._no_improvement_count > est.n_iter_no_change:
                if early_stopping:
                    msg = (
                        f"Validation score did not improve more than tol={est.tol} "
                        f"for {est.n_iter_no_change} consecutive epochs."
                    )
                else:
                    msg = (
                        f"Training loss did not improve more than tol={est.tol} "
                        f"for {est.n_iter_no_change} consecutive epochs."
                    )
                if optimizer.trigger_stopping(msg, est.verbose):
                    break
                est._no_improvement_count = 0
        else:
            if not incremental:
                if est.verbose:
                    print(f"Reached max_iter={est.max_iter} epochs. Stopping.")
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) "
                    "reached and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                )
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user; keeping the current weights.")

    if early_stopping:
        theta[...] = est._best_theta
        del est._best_theta  # a second copy of the weights; not worth pickling
    return theta
