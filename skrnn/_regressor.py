"""RNNRegressor: many-to-one regression on sequences."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_array, column_or_1d

from ._base import BaseRNN, _fit_context
from ._sequences import check_n_samples

__all__ = ["RNNRegressor"]


class RNNRegressor(RegressorMixin, BaseRNN):
    """Recurrent neural network regressor of whole sequences (many-to-one).

    Reads each sequence with a stack of recurrent layers and maps the top
    layer's final state linearly (identity output) to one or several targets,
    trained on half the squared error (as ``MLPRegressor``).  Sequences may
    have different lengths; nothing is padded.

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
        Continue from the previous fit's weights.
    momentum : float, default=0.9
        Momentum of 'sgd'.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for 'sgd'.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the sequences, stop when its R^2
        stops improving and restore the best weights.
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

    Attributes
    ----------
    loss_curve_ : list of float
        Training loss after each epoch.
    best_loss_ : float or None
        Minimum training loss; None with early stopping.
    validation_scores_ : list of float or None
        Held-out R^2 after each epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best held-out R^2 with early stopping, else None.
    n_iter_ : int
        Epochs run by the last call to fit or partial_fit.
    t_ : int
        Number of sequences seen during training.
    n_outputs_ : int
        Number of targets.
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
    RNNClassifier : Many-to-one classification.
    sklearn.neural_network.MLPRegressor : The feed-forward counterpart.

    Notes
    -----
    Targets are not rescaled: like MLPRegressor, the model learns best when
    ``y`` has unit scale (use
    :class:`~sklearn.compose.TransformedTargetRegressor` otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn import RNNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(50, 6, 1))
    >>> y = X[:, :, 0].sum(axis=1)
    >>> reg = RNNRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    >>> reg.fit(X, y).predict(X[:4]).shape
    (4,)
    """

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

    def _prepare_targets(self, y, seqs, *, reset, classes=None):
        y = check_array(
            y, ensure_2d=False, dtype=(np.float64, np.float32), input_name="y"
        )
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
        check_n_samples(seqs, y)
        if y.ndim == 2 and y.shape[1] == 1:
            # One target given as a column: warn as MLPRegressor does; predict
            # returns 1-D for a single target either way.
            y = column_or_1d(y, warn=True)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if reset:
            self.n_outputs_ = y.shape[1]
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y.shape[1]} targets, but the model was fitted with "
                f"{self.n_outputs_}."
            )
        return np.ascontiguousarray(y, dtype=seqs.dtype), None, y.shape[1], "squared", None

    def _score_outputs(self, outputs, targets):
        # Imported here, as sklearn's RegressorMixin.score does: sklearn.metrics
        # is ~50 ms of `import skrnn` otherwise.
        from sklearn.metrics import r2_score

        return float(r2_score(targets, outputs))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to sequences X and targets y.

        Parameters
        ----------
        X : list of array-like of shape (n_steps_i,) or (n_steps_i, n_features), \
                ndarray of shape (n_samples, n_steps) or (n_samples, n_steps, n_features), \
                or TokenSequences
            Training sequences (see the user guide on input formats).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sequence weights in the loss.

        Returns
        -------
        self : RNNRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on X, y, keeping the optimizer state.

        Parameters
        ----------
        X : sequences
            As in :meth:`fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sequence weights.

        Returns
        -------
        self : RNNRegressor
            The estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predicted targets of each sequence.

        Parameters
        ----------
        X : sequences
            In a format :meth:`fit` takes (3-D arrays with any number of steps).

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            1-D when the model has one target.
        """
        outputs, _ = self._outputs(X)
        return outputs[:, 0].copy() if outputs.shape[1] == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
