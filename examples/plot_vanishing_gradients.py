"""
Vanishing gradients made visible: RNN vs LSTM vs GRU on the adding problem
==========================================================================

In Hochreiter & Schmidhuber's adding problem each step carries a random value
and a marker; the target is the sum of the two marked values, one in each
half of the sequence. The model must carry a number across half the
sequence. As sequences get longer, the simple RNN's gradient through time
vanishes and it falls back to predicting the mean (R^2 near 0) already at 30
steps. The gated cells carry the gradient further: with this example's small
budget (12 epochs) the GRU learns at every length shown, while the LSTM
learns the short sequences and needs more epochs at 60 steps.
"""

# %%
import matplotlib.pyplot as plt

from skrnn import RNNRegressor
from skrnn.datasets import make_adding_problem

lengths = [10, 30, 60]
scores = {cell: [] for cell in ("rnn", "lstm", "gru")}
for n_steps in lengths:
    X, y = make_adding_problem(1200, n_steps=n_steps, random_state=0)
    for cell in scores:
        model = RNNRegressor(cell, (24,), learning_rate_init=0.01, max_iter=12,
                             batch_size=32, random_state=0)
        model.fit(X[:1000], y[:1000])
        scores[cell].append(model.score(X[1000:], y[1000:]))
        print(f"T={n_steps:3d} {cell:>4}: held-out R^2 = {scores[cell][-1]:.3f}")

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
for cell, values in scores.items():
    ax.plot(lengths, values, marker="o", label=cell)
ax.axhline(0, color="grey", lw=0.5)
ax.set_xlabel("sequence length")
ax.set_ylabel("held-out R^2")
ax.set_title("Adding problem")
ax.legend()
fig.tight_layout()
plt.show()
