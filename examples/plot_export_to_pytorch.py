"""
Exporting a fitted model to PyTorch
===================================

Fitted weights use PyTorch's layout and gate order, so a model moves to
``torch.nn.LSTM`` + ``torch.nn.Linear`` by copying arrays:
``recurrent_weights_[layer][direction]`` holds ``weight_ih``, ``weight_hh``,
``bias_ih`` and ``bias_hh`` exactly as torch names them
(``weight_ih_l{layer}`` and ``..._reverse`` for the backward direction), and
``coef_``/``intercept_`` are the output layer. This example needs torch
(``pip install torch``).
"""

# %%
import numpy as np
import torch

from skrnn import RNNClassifier

rng = np.random.RandomState(0)
X = rng.normal(size=(200, 12, 3)).astype(np.float32)
y = (X[:, :, 0].sum(axis=1) > 0).astype(int)
clf = RNNClassifier("lstm", (8, 6), bidirectional=True, max_iter=20,
                    learning_rate_init=0.01, random_state=0).fit(X, y)

lstm = torch.nn.LSTM(3, 8, num_layers=1, batch_first=True, bidirectional=True)
top = torch.nn.LSTM(16, 6, num_layers=1, batch_first=True, bidirectional=True)
for module, layer in ((lstm, 0), (top, 1)):
    for direction, weights in enumerate(clf.recurrent_weights_[layer]):
        suffix = "_l0" + ("_reverse" if direction else "")
        for name, value in weights.items():
            getattr(module, name + suffix).data = torch.from_numpy(np.ascontiguousarray(value))
head = torch.nn.Linear(12, 1)
head.weight.data = torch.from_numpy(clf.coef_)
head.bias.data = torch.from_numpy(clf.intercept_)

# %%
# Many-to-one reads the final states: forward after the last step, backward
# after the first (torch's ``h_n`` order), concatenated.
with torch.no_grad():
    out, _ = lstm(torch.from_numpy(X))
    _, (h_n, _) = top(out)
    p_torch = torch.sigmoid(head(torch.cat([h_n[0], h_n[1]], dim=1)))[:, 0].numpy()
p_skrnn = clf.predict_proba(X)[:, 1]
print(f"largest difference between torch and skrnn probabilities: "
      f"{np.abs(p_torch - p_skrnn).max():.2e}")
