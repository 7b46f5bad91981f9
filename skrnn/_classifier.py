"""RNNClassifier: many-to-one classification of sequences."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import column_or_1d

from ._base import BaseRNN, _fit_context
from ._sequences import check_n_samples
from ._kernels._output import sigmoid, softmax
from ._targets import describe_labels, encode_labels, label_weights

__all__ = ["RNNClassifier"]


class _LabelHeadMixin:
    """Label encoding and probability/label decoding shared by classifier and tagger.

    Two classes use one sigmoid output (binary log-loss), more use softmax
    (cross-entropy), as ``MLPClassifier`` does.
    """

    def _encode_step_or_sequence_labels(self, y, dtype, *, reset, classes, what):
        if not reset and classes is not None and not np.array_equal(
            np.unique(np.asarray(classes)), self.classes_
        ):
            raise ValueError(
                f"`classes=[{describe_labels(np.unique(classes))}]` is not the same as on the "
                f"first call to partial_fit, which was [{describe_labels(self.classes_)}]."
            )
        encoded = encode_labels(self, y, reset=reset, classes=classes, what=what)
        row_w = label_weights(self.class_weight, self.classes_, encoded)
        if self.classes_.shape[0] == 2:
            return encoded.astype(dtype), row_w, 1, "binary", encoded
        return encoded, row_w, self.classes_.shape[0], "multiclass", encoded

    def _partial_fit_labels(self, X, y, classes, sample_weight):
        if not self._is_fitted() and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: the "
                "first batch may not contain every class."
            )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _check_warm_start_targets(self, targets):
        # As MLPClassifier: a warm start continues the same problem, so every
        # class comes back (partial_fit takes any subset of classes_).
        present = np.unique(targets).astype(np.int64)
        if present.shape[0] != self.classes_.shape[0]:
            raise ValueError(
                "warm_start can only be used where y has the same classes as in the "
                f"previous call to fit. Previously got [{describe_labels(self.classes_)}], "
                f"y has [{describe_labels(self.classes_[present])}]; partial_fit takes "
                "batches with fewer classes."
            )

    def _proba_from_outputs(self, outputs):
        if outputs.shape[1] == 1:
            p = np.empty(outputs.shape[0], dtype=outputs.dtype)
            sigmoid(np.ascontiguousarray(outputs[:, 0]), p)
            # Filled in place: np.column_stack's Python wrapper cost ~3 us.
            proba = np.empty((p.shape[0], 2), dtype=p.dtype)
            np.subtract(1, p, out=proba[:, 0])
            proba[:, 1] = p
            return proba
        proba = np.empty_like(outputs)
        softmax(outputs, proba)
        return proba

    def _indices_from_outputs(self, outputs):
        if outputs.shape[1] == 1:
            return (outputs[:, 0] > 0).astype(np.int64)
        return np.argmax(outputs, axis=1)

    def _score_outputs(self, outputs, targets):
        return float(np.mean(self._indices_from_outputs(outputs) == targets))


class RNNClassifier(_LabelHeadMixin, ClassifierMixin, BaseRNN):
    """Recurrent neural network classifier of whole sequences (many-to-one).

    Reads each sequence step by step with a stack of recurrent layers (simple
    RNN, LSTM or GRU, optionally bidirectional) and classifies it from the top
    layer's final state: one sigmoid output for two classes, a softmax over
    classes otherwise.  Sequences may have different lengths; nothing is
    padded.

    Parameters
    ----------
    cell : {'rnn', 'lstm', 'gru'}, default='lstm'
        Recurrent cell.  ``'rnn'`` is the Elman cell
        ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``; ``'lstm'`` and
        ``'gru'`` follow PyTorch's formulations (see Notes).
    hidden_layer_sizes : int or tuple of int, default=(64,)
        Hidden state size of each stacked recurrent layer.
    bidirectional : bool, default=False
        Add a second recurrent layer per level that reads the sequence
        backwards; their states are concatenated.
    activation : {'tanh', 'relu'}, default='tanh'
        Nonlinearity of ``cell='rnn'``. LSTM and GRU accept only ``'tanh'``.
    embedding_dim : int or None, default=None
        With token input (:class:`TextOneHotEncoder` output), learn a
        ``(vocabulary, embedding_dim)`` table feeding the first layer.  None
        feeds the (sparse) one-hot vectors to the first layer directly.
    solver : {'adam', 'sgd'}, default='adam'
        Optimizer, as in :class:`~sklearn.neural_network.MLPClassifier`.
    alpha : float, default=0.0001
        L2 penalty on weight matrices (not biases), scaled as in MLP.
    batch_size : int or 'auto', default='auto'
        Sequences per mini-batch; 'auto' is ``min(32, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule for ``solver='sgd'``.
    learning_rate_init : float, default=0.001
        Initial step size.
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.
    max_iter : int, default=100
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle sequences before each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.
    tol : float, default=1e-4
        Minimum improvement of the loss (or validation score) that counts.
    verbose : bool, default=False
        Print one line per epoch and the reason training stopped.
    warm_start : bool, default=False
        Continue from the previous fit's weights; ``y`` must then have the
        same classes as before (``partial_fit`` takes fewer).
    momentum : float, default=0.9
        Momentum of 'sgd'.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for 'sgd'.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the sequences (stratified), stop
        when its accuracy stops improving and restore the best weights.
    validation_fraction : float, default=0.1
        Fraction held out for early stopping.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's parameters.
    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping.
    max_grad_norm : float or None, default=5.0
        Rescale the gradient when its global L2 norm exceeds this (guards
        against exploding gradients); None disables clipping.
    bptt_steps : int or None, default=None
        Truncated backpropagation through time: train on chunks of this many
        steps, carrying each sequence's state from one chunk to the next but
        stopping gradients at chunk boundaries, so training memory is set by
        ``bptt_steps`` rather than by the longest sequence. With a value at
        least the longest sequence it equals full BPTT. Requires
        ``bidirectional=False``. None trains on whole sequences.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes in the loss, multiplied with ``sample_weight``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    loss_curve_ : list of float
        Training loss after each epoch (across warm-started and partial fits).
    best_loss_ : float or None
        Minimum training loss; None with early stopping.
    validation_scores_ : list of float or None
        Held-out accuracy after each epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best held-out accuracy with early stopping, else None.
    n_iter_ : int
        Epochs run by the last call to fit or partial_fit.
    t_ : int
        Number of sequences seen during training.
    n_features_in_ : int
        Features per step (ragged or 3-D input, or vocabulary size for
        tokens), or the table width for 2-D input.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when X had string column names (a DataFrame table's
        columns, or the shared columns of a ragged container of DataFrames).
    recurrent_weights_ : list of list of dict
        ``recurrent_weights_[layer][direction]`` holds ``'weight_ih'`` (G*H,
        input_size), ``'weight_hh'`` (G*H, H), ``'bias_ih'`` and ``'bias_hh'``
        (G*H,) in PyTorch's layout and gate order (G = 1, 4, 3 for rnn, lstm,
        gru).
    embedding_ : ndarray of shape (n_vocabulary, embedding_dim) or None
        Learned token embedding.
    coef_ : ndarray of shape (n_outputs, H_last * n_directions)
        Output layer weights.
    intercept_ : ndarray of shape (n_outputs,)
        Output layer bias.

    See Also
    --------
    RNNRegressor : Many-to-one regression.
    RNNSequenceTagger : One label per step.
    sklearn.neural_network.MLPClassifier : The feed-forward counterpart.

    Notes
    -----
    LSTM: ``i, f, o = sigmoid(.)``, ``g = tanh(.)``, ``c_t = f c_{t-1} + i g``,
    ``h_t = o tanh(c_t)``.  GRU: ``r, z = sigmoid(.)``,
    ``n = tanh(W_in x_t + b_in + r (W_hn h_{t-1} + b_hn))``,
    ``h_t = (1 - z) n + z h_{t-1}``.  Initial states are zero.  The final
    state of a bidirectional layer concatenates the forward state after the
    last step and the backward state after the first step (PyTorch's
    ``h_n``).  A zero-length sequence keeps the zero initial state, so its
    prediction comes from the intercept alone.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(rng.randint(3, 8), 2)) for _ in range(40)]
    >>> y = [int(x[0, 0] > 0) for x in X]
    >>> clf = RNNClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **BaseRNN._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(
        self,
        cell="lstm",
        hidden_layer_sizes=(64,),
        *,
        bidirectional=False,
        activation="tanh",
        embedding_dim=None,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=100,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_grad_norm=5.0,
        bptt_steps=None,
        class_weight=None,
    ):
        super().__init__(
            cell=cell,
            hidden_layer_sizes=hidden_layer_sizes,
            bidirectional=bidirectional,
            activation=activation,
            embedding_dim=embedding_dim,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_grad_norm=max_grad_norm,
            bptt_steps=bptt_steps,
        )
        self.class_weight = class_weight

    def _prepare_targets(self, y, seqs, *, reset, classes=None):
        y = column_or_1d(y, warn=True)
        check_n_samples(seqs, y)
        # The encoded labels double as the strata of the validation split.
        return self._encode_step_or_sequence_labels(
            y, seqs.dtype, reset=reset, classes=classes, what="y"
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to sequences X and labels y.

        Parameters
        ----------
        X : list of array-like of shape (n_steps_i,) or (n_steps_i, n_features), \
                ndarray of shape (n_samples, n_steps) or (n_samples, n_steps, n_features), \
                or TokenSequences
            Training sequences (see the user guide on input formats).
        y : array-like of shape (n_samples,)
            Class labels (any type).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sequence weights in the loss.

        Returns
        -------
        self : RNNClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on X, y, keeping the optimizer state.

        Parameters
        ----------
        X : sequences
            As in :meth:`fit`.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen; required on the first call,
            ignored (but checked) afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sequence weights.

        Returns
        -------
        self : RNNClassifier
            The estimator.
        """
        return self._partial_fit_labels(X, y, classes, sample_weight)

    def decision_function(self, X):
        """Raw network outputs (logits).

        Parameters
        ----------
        X : sequences
            In a format :meth:`fit` takes (3-D arrays with any number of steps).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Logit of the second class for two classes, else one per class.
        """
        outputs, _ = self._outputs(X)
        return outputs[:, 0].copy() if outputs.shape[1] == 1 else outputs

    def predict_proba(self, X):
        """Class probabilities of each sequence.

        Parameters
        ----------
        X : sequences
            In a format :meth:`fit` takes (3-D arrays with any number of steps).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        outputs, _ = self._outputs(X)
        return self._proba_from_outputs(outputs)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : sequences
            In a format :meth:`fit` takes (3-D arrays with any number of steps).

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted class label of each sequence.

        Parameters
        ----------
        X : sequences
            In a format :meth:`fit` takes (3-D arrays with any number of steps).

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        outputs, _ = self._outputs(X)
        return self.classes_[self._indices_from_outputs(outputs)]
