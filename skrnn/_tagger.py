"""RNNSequenceTagger: one label per step (many-to-many)."""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ._base import BaseRNN, _fit_context
from ._classifier import _LabelHeadMixin
from ._sequences import split_steps, validate_step_targets
from ._targets import check_sample_weight

__all__ = ["RNNSequenceTagger"]


class RNNSequenceTagger(_LabelHeadMixin, BaseRNN):
    """Recurrent neural network that labels every step of a sequence (many-to-many).

    Part-of-speech or named-entity tagging, per-step anomaly flags: the
    output layer reads the top recurrent layer's state at every step.  With
    ``bidirectional=True`` each step's label can depend on what comes after
    it.  Labels can be of any type; two classes use a sigmoid output, more a
    softmax.

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
        Sequences (sentences) per mini-batch; 'auto' is ``min(32, n_samples)``.
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
        Hold out ``validation_fraction`` of the sequences, stop when their
        per-step accuracy stops improving and restore the best weights.
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
        Weights of the classes in the per-step loss ('balanced' counts
        steps), multiplied with ``sample_weight``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Step labels.
    loss_curve_ : list of float
        Training loss (mean over steps) after each epoch.
    best_loss_ : float or None
        Minimum training loss; None with early stopping.
    validation_scores_ : list of float or None
        Held-out per-step accuracy after each epoch with early stopping, else
        None.
    best_validation_score_ : float or None
        Best held-out per-step accuracy with early stopping, else None.
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
        Recurrent weights in PyTorch's layout (see :class:`RNNClassifier`).
    embedding_ : ndarray of shape (n_vocabulary, embedding_dim) or None
        Learned token embedding.
    coef_ : ndarray of shape (n_outputs, H_last * n_directions)
        Output layer weights.
    intercept_ : ndarray of shape (n_outputs,)
        Output layer bias.

    See Also
    --------
    RNNClassifier : One label per sequence.
    TextOneHotEncoder : Turns pre-tokenised sentences into token input.

    Notes
    -----
    ``y`` is a list with one label sequence per X sequence, each as long as
    its X sequence.  A zero-length sequence gets an empty array of labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNSequenceTagger
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.normal(size=(rng.randint(2, 6), 1)) for _ in range(30)]
    >>> y = [np.where(x[:, 0] > 0, "up", "down") for x in X]
    >>> tagger = RNNSequenceTagger(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    >>> [t.shape == x.shape[:1] for t, x in zip(tagger.fit(X, y).predict(X[:2]), X[:2])]
    [True, True]
    """

    _parameter_constraints = {
        **BaseRNN._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }
    _per_step = True

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
        flat = validate_step_targets(y, seqs)
        targets, row_w, n_out, loss, _ = self._encode_step_or_sequence_labels(
            flat, seqs.dtype, reset=reset, classes=classes, what="y (step labels)"
        )
        return targets, row_w, n_out, loss, None

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the tagger to sequences X and per-step labels y.

        Parameters
        ----------
        X : list of array-like of shape (n_steps_i,) or (n_steps_i, n_features), \
                ndarray of shape (n_samples, n_steps) or (n_samples, n_steps, n_features), \
                or TokenSequences
            Training sequences (see the user guide on input formats).
        y : list of array-like of shape (n_steps_i,)
            One label sequence per X sequence, of the same length.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sequence weights, applied to each of its steps.

        Returns
        -------
        self : RNNSequenceTagger
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch, keeping the optimizer state.

        Parameters
        ----------
        X : sequences
            As in :meth:`fit`.
        y : list of array-like of shape (n_steps_i,)
            Per-step labels.
        classes : array-like of shape (n_classes,), default=None
            Every step label that will ever be seen; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sequence weights.

        Returns
        -------
        self : RNNSequenceTagger
            The estimator.
        """
        return self._partial_fit_labels(X, y, classes, sample_weight)

    def predict_proba(self, X):
        """Per-step class probabilities.

        Parameters
        ----------
        X : sequences
            In a format :meth:`fit` takes (3-D arrays with any number of steps).

        Returns
        -------
        proba : list of length n_samples of ndarray of shape (n_steps_i, n_classes)
            Columns follow ``classes_``.
        """
        outputs, seqs = self._outputs(X)
        return split_steps(self._proba_from_outputs(outputs), seqs.offsets)

    def predict(self, X):
        """Predicted label of every step.

        Parameters
        ----------
        X : sequences
            In a format :meth:`fit` takes (3-D arrays with any number of steps).

        Returns
        -------
        y : list of length n_samples of ndarray of shape (n_steps_i,)
            Labels from ``classes_``.
        """
        outputs, seqs = self._outputs(X)
        return split_steps(self.classes_[self._indices_from_outputs(outputs)], seqs.offsets)

    def score(self, X, y, sample_weight=None):
        """Per-step accuracy over all steps of all sequences.

        Parameters
        ----------
        X : sequences
            Test sequences.
        y : list of array-like of shape (n_steps_i,)
            True per-step labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sequence weights, applied to each of its steps.

        Returns
        -------
        score : float
            Fraction of correctly labelled steps.
        """
        outputs, seqs = self._outputs(X)
        truth = validate_step_targets(y, seqs)
        pred = self.classes_[self._indices_from_outputs(outputs)]
        weights = check_sample_weight(sample_weight, seqs.n_samples)
        if not truth.size:
            return 0.0
        if weights is not None:
            weights = np.repeat(weights, seqs.lengths)
            if not np.any(weights > 0):
                raise ValueError(
                    "sample_weight is zero on every step of X; the weighted accuracy is "
                    "undefined."
                )
        # sklearn's metric, for its checks: int labels against str classes_
        # compared all unequal (a silent 0.0).  Imported here: sklearn.metrics
        # would add to `import skrnn`.
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(truth, pred, sample_weight=weights))
