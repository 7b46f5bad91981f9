"""Time series generators and a helper cutting a series into windows."""

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ._validation import _check_float, _check_int, _check_length_range

__all__ = ["make_ar_series", "make_seasonal_series", "series_to_windows"]


def _time_index(n_steps, start, freq):
    if start is None:
        return pd.RangeIndex(n_steps)
    return pd.date_range(start=start, periods=n_steps, freq=freq)


def make_seasonal_series(
    n_steps=1000,
    *,
    period=50,
    noise=0.1,
    trend=0.0,
    start="2020-01-01",
    freq="D",
    random_state=None,
):
    """Generate a noisy sine wave with an optional linear trend.

    ``y_t = sin(2 pi t / period) + trend * t + noise * e_t`` for
    ``t = 0, ..., n_steps - 1``, with ``e_t`` standard normal.

    Parameters
    ----------
    n_steps : int, default=1000
        Length of the series.
    period : float, default=50
        Length of one seasonal cycle, in steps (> 0).
    noise : float, default=0.1
        Standard deviation of the Gaussian noise (>= 0).
    trend : float, default=0.0
        Increase of the level per step.
    start : str, datetime-like or None, default="2020-01-01"
        First timestamp of the index.  None gives a ``RangeIndex`` instead of
        a ``DatetimeIndex``.
    freq : str or DateOffset, default="D"
        Spacing of the timestamps, as in :func:`pandas.date_range`.
    random_state : int, RandomState instance or None, default=None
        Seed of the noise.

    Returns
    -------
    series : pandas.Series of shape (n_steps,)
        Float values named ``"value"``, indexed by time.

    See Also
    --------
    make_ar_series : Autoregressive series.
    series_to_windows : Cut a series into (window, next value) samples.

    Examples
    --------
    >>> from skrnn.datasets import make_seasonal_series
    >>> series = make_seasonal_series(n_steps=100, period=12, random_state=0)
    >>> series.shape
    (100,)
    >>> series.index[:2].strftime("%Y-%m-%d").tolist()
    ['2020-01-01', '2020-01-02']
    """
    n_steps = _check_int(n_steps, "n_steps", min_val=1)
    period = _check_float(period, "period", min_val=0.0, include_boundaries="neither")
    noise = _check_float(noise, "noise", min_val=0.0)
    trend = _check_float(trend, "trend")
    rng = check_random_state(random_state)

    t = np.arange(n_steps, dtype=np.float64)
    values = np.sin(2.0 * np.pi * t / period) + trend * t + noise * rng.standard_normal(n_steps)
    return pd.Series(values, index=_time_index(n_steps, start, freq), name="value")


def make_ar_series(
    n_steps=1000, *, coefs=(0.6, -0.2), noise=1.0, start="2020-01-01", freq="D", random_state=None
):
    """Generate a stationary autoregressive series AR(p).

    ``y_t = coefs[0] * y_{t-1} + ... + coefs[p-1] * y_{t-p} + noise * e_t``
    with ``e_t`` standard normal.  The recursion runs for a burn-in of
    ``100 + 10 * p`` steps before the returned part, so the series starts
    near its stationary distribution.  The best one-step forecast is the
    linear recursion itself, with mean squared error ``noise ** 2``.

    Parameters
    ----------
    n_steps : int, default=1000
        Length of the series.
    coefs : array-like of shape (p,), default=(0.6, -0.2)
        Autoregressive coefficients, lag 1 first.  They must define a
        stationary process (all roots of ``z**p - coefs[0] * z**(p-1) - ...
        - coefs[p-1]`` inside the unit circle).  An empty sequence gives
        white noise.
    noise : float, default=1.0
        Standard deviation of the innovations (>= 0).
    start : str, datetime-like or None, default="2020-01-01"
        First timestamp of the index.  None gives a ``RangeIndex``.
    freq : str or DateOffset, default="D"
        Spacing of the timestamps, as in :func:`pandas.date_range`.
    random_state : int, RandomState instance or None, default=None
        Seed of the innovations.

    Returns
    -------
    series : pandas.Series of shape (n_steps,)
        Float values named ``"value"``, indexed by time.

    See Also
    --------
    make_seasonal_series : Periodic series with trend and noise.
    series_to_windows : Cut a series into (window, next value) samples.

    Examples
    --------
    >>> from skrnn.datasets import make_ar_series
    >>> series = make_ar_series(n_steps=50, coefs=(0.5,), start=None, random_state=0)
    >>> series.shape, series.index[-1]
    ((50,), 49)
    """
    n_steps = _check_int(n_steps, "n_steps", min_val=1)
    noise = _check_float(noise, "noise", min_val=0.0)
    try:
        coefs = np.asarray(coefs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"coefs must be a 1-D sequence of numbers, got {coefs!r}.") from exc
    if coefs.ndim != 1:
        raise ValueError(f"coefs must be a 1-D sequence of numbers, got shape {coefs.shape}.")
    if not np.all(np.isfinite(coefs)):
        raise ValueError("coefs must be finite.")
    p = coefs.shape[0]
    if p > 0:
        roots = np.roots(np.concatenate([[1.0], -coefs]))
        if roots.size and np.max(np.abs(roots)) >= 1.0:
            raise ValueError(
                f"coefs={coefs.tolist()} define a non-stationary process (largest "
                f"characteristic root modulus {np.max(np.abs(roots)):.3g} >= 1); its "
                "values would drift or explode."
            )
    rng = check_random_state(random_state)

    burn_in = 100 + 10 * p
    innovations = noise * rng.standard_normal(burn_in + n_steps)
    values = np.zeros(burn_in + n_steps)
    for t in range(burn_in + n_steps):
        history = values[max(0, t - p) : t][::-1]  # lag 1 first
        values[t] = innovations[t] + coefs[: history.shape[0]] @ history
    return pd.Series(values[burn_in:], index=_time_index(n_steps, start, freq), name="value")


def series_to_windows(
    series, *, min_length=10, max_length=50, horizon=1, stride=1, random_state=None
):
    """Cut one series into variable-length windows and the values that follow.

    Turns forecasting into supervised learning on ragged sequences: each
    sample is a window ``x[e - L : e]`` of ``L`` consecutive values and its
    target is ``x[e + horizon - 1]`` (the next value for ``horizon=1``).
    Targets are taken every ``stride`` steps counting back from the last
    value of the series, so the newest value is always a target; the samples
    are returned in chronological order.  Each window length ``L`` is drawn
    uniformly from ``[min_length, max_length]`` (capped by the history
    available), so a model cannot rely on a fixed length.

    Parameters
    ----------
    series : array-like of shape (n_steps,) or pandas.Series
        Finite numeric values in time order.
    min_length : int, default=10
        Shortest window (>= 1).
    max_length : int, default=50
        Longest window (>= min_length).  ``max_length=min_length`` gives
        fixed-length windows.
    horizon : int, default=1
        How many steps after the window's last value the target lies (>= 1).
    stride : int, default=1
        Steps between consecutive targets (>= 1).
    random_state : int, RandomState instance or None, default=None
        Seed of the window lengths.

    Returns
    -------
    X : list of length n_windows of ndarray of shape (n_steps_i,)
        Float windows, each a copy, ending ``horizon`` steps before its
        target.
    y : ndarray of shape (n_windows,) or pandas.Series
        Targets.  When ``series`` is a pandas Series, ``y`` is a Series
        indexed by the target's index label (its timestamp for a
        ``DatetimeIndex``) and named like ``series``.

    Raises
    ------
    ValueError
        If the series is not 1-D, not numeric, contains NaN or infinite
        values, or is shorter than ``min_length + horizon``; if
        ``min_length > max_length``; if a length, ``horizon`` or ``stride``
        is not positive.

    See Also
    --------
    make_seasonal_series, make_ar_series : Series to cut.
    make_next_value_sequences : Many short series with a next-value target.

    Examples
    --------
    >>> import numpy as np
    >>> from skrnn.datasets import series_to_windows
    >>> X, y = series_to_windows(np.arange(6.0), min_length=2, max_length=3, random_state=0)
    >>> [x.tolist() for x in X], y.tolist()
    ([[0.0, 1.0], [0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]], [2.0, 3.0, 4.0, 5.0])
    >>> import pandas as pd
    >>> s = pd.Series(np.arange(6.0), index=pd.date_range("2024-01-01", periods=6))
    >>> X, y = series_to_windows(s, min_length=3, max_length=3, horizon=2)
    >>> len(X), y.index.strftime("%m-%d").tolist()
    (2, ['01-05', '01-06'])
    """
    min_length, max_length = _check_length_range(min_length, max_length, min_val=1)
    horizon = _check_int(horizon, "horizon", min_val=1)
    stride = _check_int(stride, "stride", min_val=1)

    index = series.index if isinstance(series, pd.Series) else None
    if isinstance(series, pd.DataFrame):
        raise ValueError("series must be 1-D (a pandas Series or a 1-D array), got a DataFrame.")
    try:
        values = np.asarray(series, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("series must contain numeric values.") from exc
    if values.ndim != 1:
        raise ValueError(f"series must be 1-D, got an array of shape {values.shape}.")
    if not np.all(np.isfinite(values)):
        raise ValueError("series contains NaN or infinite values; fill or drop them first.")
    n = values.shape[0]
    if n < min_length + horizon:
        raise ValueError(
            f"series has {n} values, fewer than min_length + horizon = "
            f"{min_length + horizon} needed for one window and its target."
        )
    rng = check_random_state(random_state)

    # Target positions, back from the last value, then in time order.
    targets = np.arange(n - 1, min_length + horizon - 2, -stride)[::-1]
    ends = targets - horizon + 1  # exclusive end of each window
    longest = np.minimum(max_length, ends)
    lengths = np.floor(min_length + rng.uniform(size=ends.shape[0]) * (longest - min_length + 1))
    lengths = lengths.astype(np.intp)
    X = [values[e - length : e].copy() for e, length in zip(ends, lengths)]
    y = values[targets].copy()
    if index is not None:
        y = pd.Series(y, index=index[targets], name=series.name)
    return X, y
