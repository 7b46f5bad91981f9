"""
Streaming training with partial_fit over chunks of a DataFrame
==============================================================

When data arrives in batches (or does not fit in memory), ``partial_fit``
trains one epoch per call and keeps the optimizer state between calls. The
classes must be announced on the first call, since the first chunk may not
contain all of them.
"""

# %%
import numpy as np
import pandas as pd

from skrnn import RNNClassifier

rng = np.random.RandomState(0)
# A DataFrame with one ragged sensor trace per row and its label.
frame = pd.DataFrame({
    "trace": [rng.normal(size=rng.randint(10, 40)).cumsum() for _ in range(3000)],
})
frame["label"] = np.where(frame["trace"].map(lambda t: t[-1] > t[0]), "rising", "falling")

clf = RNNClassifier("gru", (16,), learning_rate_init=0.01, random_state=0)
holdout = frame.iloc[2500:]
for start in range(0, 2500, 500):
    chunk = frame.iloc[start : start + 500]
    clf.partial_fit(chunk["trace"], chunk["label"], classes=["falling", "rising"])
    print(f"after {start + 500:4d} traces: loss {clf.loss_curve_[-1]:.3f}, "
          f"held-out accuracy {clf.score(holdout['trace'], holdout['label']):.3f}")
