"""Synthetic sequence tasks: the adding problem and next-value prediction."""

import numpy as np
from sklearn.utils import check_random_state

from ._validation import _check_bool, _check_float, _check_int, _check_length_range

__all__ = ["make_adding_problem", "make_next_value_sequences"]


def make_adding_problem(n_samples=1000, n_steps=50, *, variable_length=False, random_state=None):
    """Generate the adding problem, a long-memory regression task.

    Each sequence has two features per step: a value drawn uniformly from
    ``[0, 1)`` and a 0/1 marker.  Exactly two steps are marked, one in the
    first half of the sequence and one in the second half; the target is the
    sum of the two marked values.  A model must remember the first marked
    value across up to ``n_steps`` steps, which makes the task a classic test
    of gated cells (Hochreiter and Schmidhuber, 1997).  Predicting the
    constant 1.0 gives a mean squared error of about 1/6.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    n_steps : int, default=50
        Length of every sequence, or the maximum length when
        ``variable_length=True``.  At least 2.
    variable_length : bool, default=False
        If True, each sequence gets its own length drawn uniformly from
        ``[max(2, n_steps // 2), n_steps]`` and the halves are those of that
        sequence.
    random_state : int, RandomState instance or None, default=None
        Seed of the values, marker positions and lengths.

    Returns
    -------
    X : ndarray of shape (n_samples, n_steps, 2) or list of ndarray
        Values in ``X[..., 0]``, markers in ``X[..., 1]``.  With
        ``variable_length=True``, a list of length n_samples of ndarray of
        shape (n_steps_i, 2).
    y : ndarray of shape (n_samples,)
        Sum of the two marked values, in ``[0, 2)``.

    See Also
    --------
    make_next_value_sequences : Short ragged sequences with a next-value target.

    References
    ----------
    S. Hochreiter and J. Schmidhuber, "Long short-term memory", Neural
    Computation 9(8), 1997 (experiment 4).

    Examples
    --------
    >>> from skrnn.datasets import make_adding_problem
    >>> X, y = make_adding_problem(n_samples=3, n_steps=10, random_state=0)
    >>> X.shape, y.shape
    ((3, 10, 2), (3,))
    >>> int(X[0, :, 1].sum())  # two marked steps
    2
    >>> X, y = make_adding_problem(n_samples=3, n_steps=10, variable_length=True,
    ...                            random_state=0)
    >>> [x.shape for x in X]
    [(9, 2), (10, 2), (5, 2)]
    """
    n_samples = _check_int(n_samples, "n_samples", min_val=1)
    n_steps = _check_int(n_steps, "n_steps", min_val=2)
    variable_length = _check_bool(variable_length, "variable_length")
    rng = check_random_state(random_state)

    if variable_length:
        lengths = rng.randint(max(2, n_steps // 2), n_steps + 1, size=n_samples)
    else:
        lengths = np.full(n_samples, n_steps)
    half = lengths // 2
    # First marker uniformly in [0, half), second in [half, length).
    first = np.floor(rng.uniform(size=n_samples) * half).astype(np.intp)
    second = half + np.floor(rng.uniform(size=n_samples) * (lengths - half)).astype(np.intp)
    values = rng.uniform(size=(n_samples, n_steps))

    rows = np.arange(n_samples)
    markers = np.zeros((n_samples, n_steps))
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    # Steps past a sequence's length are dropped below; their values are unused.
    y = values[rows, first] + values[rows, second]
    X = np.stack([values, markers], axis=-1)
    if variable_length:
        X = [np.ascontiguousarray(X[i, :t]) for i, t in enumerate(lengths)]
    return X, y


def make_next_value_sequences(
    n_samples=1000, *, min_length=3, max_length=10, scale=0.1, random_state=None
):
    """Generate arithmetic progressions whose next term is the target.

    The "1, 2, 3 -> 4" task: each sequence is ``scale * (a + b * k)`` for
    ``k = 0, ..., n_steps_i - 1``, with an integer start ``a`` drawn
    uniformly from ``[-9, 9]`` and an integer step ``b`` from ``[-3, 3]``
    (0 gives a constant sequence).  The target is the following term,
    ``scale * (a + b * n_steps_i)``.  Lengths vary, so a model must read the
    step from the sequence rather than from a fixed position.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    min_length : int, default=3
        Shortest sequence (at least 2, so that the step can be read).
    max_length : int, default=10
        Longest sequence; lengths are drawn uniformly from
        ``[min_length, max_length]``.
    scale : float, default=0.1
        Positive factor applied to sequences and targets.  The default keeps
        values within a few units, a comfortable range for ``tanh`` cells;
        ``scale=1.0`` gives integer-valued sequences.
    random_state : int, RandomState instance or None, default=None
        Seed of starts, steps and lengths.

    Returns
    -------
    X : list of length n_samples of ndarray of shape (n_steps_i,)
        Univariate float sequences.
    y : ndarray of shape (n_samples,)
        Next term of each progression.

    See Also
    --------
    series_to_windows : Next-value windows cut from one long series.

    Examples
    --------
    >>> from skrnn.datasets import make_next_value_sequences
    >>> X, y = make_next_value_sequences(4, scale=1.0, random_state=3)
    >>> len(X), y.shape
    (4, (4,))
    >>> X[0].tolist(), float(y[0])
    ([1.0, 3.0, 5.0, 7.0, 9.0, 11.0], 13.0)
    """
    n_samples = _check_int(n_samples, "n_samples", min_val=1)
    min_length, max_length = _check_length_range(min_length, max_length, min_val=2)
    scale = _check_float(scale, "scale", min_val=0.0, include_boundaries="neither")
    rng = check_random_state(random_state)

    starts = rng.randint(-9, 10, size=n_samples)
    steps = rng.randint(-3, 4, size=n_samples)
    lengths = rng.randint(min_length, max_length + 1, size=n_samples)
    X = [
        scale * (a + b * np.arange(t, dtype=np.float64))
        for a, b, t in zip(starts, steps, lengths)
    ]
    y = scale * (starts + steps * lengths).astype(np.float64)
    return X, y
