"""
Predicting the next value: "1, 2, 3 -> 4" and a seasonal time series
=====================================================================

Many-to-one regression with :class:`skrnn.RNNRegressor`. First, arithmetic
progressions of different lengths (a ragged list, no padding); then a noisy
seasonal series with a ``DatetimeIndex``, cut into variable-length windows
by :func:`skrnn.datasets.series_to_windows`, with a plot of the one-step
forecast against the truth.
"""

# %%
# Arithmetic progressions: the next value is the last plus the step.
import matplotlib.pyplot as plt
import numpy as np

from skrnn import RNNRegressor
from skrnn.datasets import make_next_value_sequences, make_seasonal_series, series_to_windows

X, y = make_next_value_sequences(2000, min_length=3, max_length=10, random_state=0)
reg = RNNRegressor("gru", (32,), learning_rate_init=0.01, max_iter=30, random_state=0)
reg.fit(X[:1500], y[:1500])
print(f"R^2 on held-out progressions: {reg.score(X[1500:], y[1500:]):.4f}")
for seq in ([0.1, 0.2, 0.3], [0.5, 0.3, 0.1, -0.1], [0.4, 0.4, 0.4, 0.4, 0.4]):
    print(f"{seq} -> {reg.predict([np.array(seq)])[0]:+.3f}")

# %%
# A seasonal series (period 50 days) with noise, forecast one step ahead from
# windows of 20 to 60 past values. The first 80 % of the time line trains.
series = make_seasonal_series(1200, period=50, noise=0.1, random_state=0)
windows, targets = series_to_windows(series, min_length=20, max_length=60, random_state=0)
split = int(0.8 * len(windows))
forecaster = RNNRegressor("lstm", (16,), learning_rate_init=0.01, max_iter=15, random_state=0)
forecaster.fit(windows[:split], targets.iloc[:split])
forecast = forecaster.predict(windows[split:])
print(f"one-step-ahead R^2 on the last 20 % of the series: "
      f"{forecaster.score(windows[split:], targets.iloc[split:]):.3f}")

fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(targets.index[split:], targets.iloc[split:], label="truth", lw=1)
ax.plot(targets.index[split:], forecast, label="forecast", lw=1)
ax.set_title("One-step-ahead forecast of a noisy seasonal series")
ax.legend()
fig.tight_layout()

# %%
# The loss curve of the forecaster.
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(forecaster.loss_curve_)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
fig.tight_layout()
plt.show()
