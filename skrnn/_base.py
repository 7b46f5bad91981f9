"""BaseRNN: what the three sequence estimators share.

Hyper-parameters and their validation, ``_fit`` (fresh, warm-started or
incremental, following ``MLPClassifier._fit``), the public weight attributes in
PyTorch's layout and the plumbing from any X to network outputs.
"""

import dataclasses
import operator
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context  # private: imported here only
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._network import PREDICT_WORKSPACE_BYTES, Network, thread_workspace
from ._batching import sequence_rows
from ._params import Architecture, layout_for
from ._persistence import VersionStampMixin
from ._sequences import validate_sequences
from ._targets import check_sample_weight
from ._threads import single_threaded_blas
from ._training import fit_loop, predict_outputs

__all__ = ["BaseRNN", "_fit_context"]

# Architecture fields under the names of the parameters that set them.
_ARCH_NAMES = {"hidden_sizes": "hidden_layer_sizes", "relu": "relu activation"}
# Names of the fitted weight attributes, in the order they are stored.
_WEIGHT_ATTRIBUTES = ("recurrent_weights_", "embedding_", "coef_", "intercept_")


class BaseRNN(VersionStampMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class for skrnn's recurrent estimators. Not for direct use."""

    _parameter_constraints: dict = {
        "cell": [StrOptions({"rnn", "lstm", "gru"})],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "bidirectional": ["boolean"],
        "activation": [StrOptions({"tanh", "relu"})],
        "embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
        "solver": [StrOptions({"adam", "sgd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "bptt_steps": [Interval(Integral, 1, None, closed="left"), None],
    }

    # Many-to-many (the tagger) or many-to-one.
    _per_step = False

    @abstractmethod
    def __init__(
        self,
        cell,
        hidden_layer_sizes,
        *,
        bidirectional,
        activation,
        embedding_dim,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_grad_norm,
        bptt_steps,
    ):
        self.cell = cell
        self.hidden_layer_sizes = hidden_layer_sizes
        self.bidirectional = bidirectional
        self.activation = activation
        self.embedding_dim = embedding_dim
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_grad_norm = max_grad_norm
        self.bptt_steps = bptt_steps

    # -- subclass hooks -----------------------------------------------------
    @abstractmethod
    def _prepare_targets(self, y, seqs, *, reset, classes=None):
        """Return (targets, row_weights or None, n_outputs, loss, stratify).

        ``targets`` are indexed by sequence (many-to-one) or by row of
        ``seqs.values`` (many-to-many).
        """

    @abstractmethod
    def _score_outputs(self, outputs, targets):
        """Validation score (higher is better) of network outputs."""

    def _check_warm_start_targets(self, targets):
        """Refuse targets a warm-started ``fit`` cannot continue on (labels: see the mixin)."""

    # -- architecture -------------------------------------------------------
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if len(sizes) == 0:
            raise ValueError("hidden_layer_sizes must contain at least one layer.")
        for s in sizes:
            if isinstance(s, (bool, np.bool_)) or not isinstance(s, Integral) or s < 1:
                raise ValueError(
                    f"hidden_layer_sizes must be positive integers, got {sizes}."
                )
        return tuple(int(s) for s in sizes)

    def _check_cross_params(self):
        if self.bptt_steps is not None and self.bidirectional:
            raise ValueError(
                "bptt_steps (truncated backpropagation through time) carries the "
                "state forward from chunk to chunk, which a reverse direction cannot "
                "do; use bidirectional=False or bptt_steps=None."
            )
        if self.activation != "tanh" and self.cell != "rnn":
            raise ValueError(
                f"activation={self.activation!r} applies to cell='rnn' only; "
                f"{self.cell!r} cells have fixed gate activations. Use "
                "activation='tanh' (the default) with cell='lstm' or 'gru'."
            )

    def _architecture(self, seqs, n_outputs):
        if self.embedding_dim is not None and not seqs.is_tokens:
            raise ValueError(
                f"embedding_dim={self.embedding_dim} needs token input (the output "
                "of TextOneHotEncoder); this X holds dense features. Set "
                "embedding_dim=None."
            )
        return Architecture(
            cell=self.cell,
            hidden_sizes=self._hidden_sizes(),
            bidirectional=bool(self.bidirectional),
            relu=self.activation == "relu",
            n_inputs=int(seqs.n_features),
            tokens=bool(seqs.is_tokens),
            embedding_dim=None if self.embedding_dim is None else int(self.embedding_dim),
            n_outputs=int(n_outputs),
        )

    # -- fitting ------------------------------------------------------------
    def _is_fitted(self):
        return hasattr(self, "coef_")

    def _fit(self, X, y, sample_weight=None, *, incremental=False, classes=None):
        """Fit, warm-start or partially fit; a failure leaves the estimator as it was.

        Validation sets ``classes_`` and ``n_features_in_`` and the loop sets
        ``loss_curve_`` before training can still fail (divergence, a bad
        early-stopping split); a half-updated estimator then predicted with
        the new classes on the old head, and a ``partial_fit`` after it
        reused an optimizer sized for another network.  So the attributes
        are put back.  A ``partial_fit`` that failed while training also drops
        the optimizer it continued (the next call starts a fresh one, with
        the current hyper-parameters: after a divergence, a lower learning
        rate); one refused at its input keeps it.
        """
        saved = dict(self.__dict__)
        # Lists that a warm start or partial_fit extends in place.
        for name in ("loss_curve_", "validation_scores_"):
            if isinstance(saved.get(name), list):
                saved[name] = list(saved[name])
        stage = ["input"]
        try:
            return self._fit_unguarded(X, y, sample_weight, incremental, classes, stage)
        except BaseException:  # a Ctrl-C while validating too (training catches its own)
            if incremental and stage[0] == "training":
                saved.pop("_optimizer", None)
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit_unguarded(self, X, y, sample_weight, incremental, classes, stage):
        """``_fit`` without the rollback; ``stage[0] = "training"`` once the input is accepted."""
        self._check_cross_params()
        if incremental and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: there is no "
                "held-out set across calls. Use fit, or set early_stopping=False."
            )
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        first_pass = not self._is_fitted() or (not self.warm_start and not incremental)
        seqs = validate_sequences(self, X, reset=first_pass)
        targets, row_w, n_outputs, loss, stratify = self._prepare_targets(
            y, seqs, reset=first_pass, classes=classes
        )
        if not first_pass and not incremental:
            self._check_warm_start_targets(targets)
        lengths = seqs.lengths
        if not np.any(lengths > 0):
            raise ValueError(
                "Every sequence in X has zero steps; there is nothing to learn from."
            )
        weights = self._combine_weights(
            check_sample_weight(sample_weight, seqs.n_samples), row_w, lengths
        )
        dtype = seqs.dtype
        if weights is not None:
            weights = weights.astype(dtype)
            if not np.any(weights > 0):
                raise ValueError("sample_weight (times class_weight) is zero everywhere.")

        arch = self._architecture(seqs, n_outputs)
        layout = layout_for(arch)
        rng = check_random_state(self.random_state)
        if first_pass:
            theta = layout.init_theta(rng, dtype)
        else:
            if arch != self._arch:
                changes = ", ".join(
                    f"{_ARCH_NAMES.get(f.name, f.name)} {getattr(self._arch, f.name)!r} -> "
                    f"{getattr(arch, f.name)!r}"
                    for f in dataclasses.fields(arch)
                    if getattr(arch, f.name) != getattr(self._arch, f.name)
                )
                how = (
                    "partial_fit continues training the fitted network; fit trains a new one"
                    if incremental
                    else "warm_start continues training the fitted network; set "
                    "warm_start=False to fit a new one"
                )
                raise ValueError(
                    f"The network differs from the fitted one ({changes}): {how}."
                )
            theta = self._pack_weights(layout, dtype)
        network = Network(layout, loss, self._per_step)

        def score(outputs, idx):
            if self._per_step:
                return self._score_outputs(outputs, targets[sequence_rows(seqs.offsets, idx)])
            return self._score_outputs(outputs, targets[idx])

        stage[0] = "training"
        with single_threaded_blas():
            fit_loop(
                self,
                network,
                theta,
                seqs,
                targets,
                weights,
                incremental=incremental,
                first_pass=first_pass,
                rng=rng,
                score=score,
                stratify=stratify,
            )
        if not np.all(np.isfinite(theta)):
            raise ValueError(
                "Training produced non-finite weights; lower learning_rate_init or "
                "set max_grad_norm."
            )
        self._arch = arch
        self._loss = loss
        self._set_weights(layout, theta)
        return self

    def _combine_weights(self, sample_weight, row_weight, lengths):
        """Per-target weights: sample weights (repeated over steps if per-step) x class weights."""
        if sample_weight is not None and self._per_step:
            sample_weight = np.repeat(sample_weight, lengths)
        if sample_weight is None:
            return row_weight
        if row_weight is None:
            return sample_weight
        return sample_weight * row_weight

    # -- weights ------------------------------------------------------------
    def _set_weights(self, layout, theta):
        """Expose ``theta`` as the public attributes, as views (no copy).

        The views let predict run on the fitted ``theta`` without repacking.
        If a user replaces an attribute, predict notices and packs the
        attributes instead (they are the source of truth).
        """
        views = layout.views(theta)
        for name in _WEIGHT_ATTRIBUTES:
            setattr(self, name, views[name])
        self._theta = theta
        self._theta_views = _weight_objects(self)
        # Unpacked here rather than in predict: predict must not change the
        # estimator's __dict__ (sklearn's check_dict_unchanged).
        self._theta_params = layout.unpack(theta)

    def _pack_weights(self, layout, dtype):
        return layout.from_attributes(
            self.recurrent_weights_, self.embedding_, self.coef_, self.intercept_, dtype
        )

    def _current_theta(self, layout):
        """``theta`` matching the public attributes (the fitted one if untouched)."""
        stored = getattr(self, "_theta_views", None)
        try:
            current = _weight_objects(self)
        except (KeyError, TypeError, IndexError):
            current = None
        if (
            stored is not None
            and current is not None
            and len(stored) == len(current)
            and all(map(operator.is_, stored, current))
        ):
            return self._theta
        return self._pack_weights(layout, self._model_dtype())

    def _model_dtype(self):
        """The fitted dtype: replaced attributes are cast to it, never change it."""
        theta = getattr(self, "_theta", None)
        return theta.dtype if theta is not None else np.asarray(self.coef_).dtype

    def _predict_params(self):
        """``(layout, theta, params)`` for predict, ``params`` being ``layout.unpack(theta)``.

        While the public attributes are the fitted views, ``params`` are the
        views unpacked once by ``_set_weights`` (unpacking cost ~4 us of a
        one-sequence predict); in-place edits of the attributes reach them,
        as they share memory.  A replaced attribute gives a freshly packed
        ``theta``, unpacked for this call only.
        """
        layout = layout_for(self._arch)
        theta = self._current_theta(layout)
        if theta is getattr(self, "_theta", None):
            return layout, theta, self._theta_params
        return layout, theta, layout.unpack(theta)

    def __getstate__(self):
        # A stamped copy (VersionStampMixin): on Python >= 3.11
        # object.__getstate__ returns self.__dict__ itself, which must not lose
        # the keys popped here.
        state = super().__getstate__()
        # The public attributes are views of _theta; pickle only them.
        state.pop("_theta", None)
        state.pop("_theta_views", None)
        state.pop("_theta_params", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)  # checks and drops the version stamp
        if "coef_" in state and "_arch" in state:
            layout = layout_for(self._arch)
            self._set_weights(layout, self._pack_weights(layout, self.coef_.dtype))

    # -- prediction plumbing --------------------------------------------------
    def _outputs(self, X):
        """Network outputs for X and its Sequences (see ``predict_outputs``)."""
        if not self._is_fitted():
            # sklearn's check for its error; when fitted it would only cost
            # ~2 us a call (its checks, then our __sklearn_is_fitted__).
            check_is_fitted(self)
        seqs = validate_sequences(self, X, reset=False, dtype=self._model_dtype())
        layout, theta, params = self._predict_params()
        # The thread's workspace, not one kept with the parameters: two
        # threads predicting with this estimator at once must not share one.
        workspace = thread_workspace()
        network = Network(layout, self._loss, self._per_step, workspace)
        try:
            with single_threaded_blas():
                return predict_outputs(network, theta, seqs, params=params), seqs
        finally:
            workspace.trim(PREDICT_WORKSPACE_BYTES)

    def __sklearn_is_fitted__(self):
        # check_is_fitted otherwise scans every attribute name for a trailing
        # underscore on each predict call; the weights are what predict needs.
        return self._is_fitted()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


def _weight_objects(est):
    """The public weight arrays of ``est``, flattened in a fixed order."""
    objs = [est.coef_, est.intercept_, est.embedding_]
    for layer in est.recurrent_weights_:
        for weights in layer:
            # Spelled out: a generator here cost ~1 us of every predict call.
            objs += (weights["weight_ih"], weights["weight_hh"], weights["bias_ih"],
                     weights["bias_hh"])
    return objs
