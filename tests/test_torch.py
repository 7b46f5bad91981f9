"""Agreement with PyTorch: predictions and gradients of models loaded from our attributes.

Pins the weight layout and gate order of API.md: a fitted skrnn model loaded
into torch.nn.RNN/LSTM/GRU + nn.Linear (and nn.Embedding) predicts the same,
and loss_and_grad equals torch autograd on ragged, packed batches.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
rnn_utils = torch.nn.utils.rnn

from skrnn import RNNClassifier, RNNRegressor, RNNSequenceTagger  # noqa: E402
from skrnn._batching import pack_batch  # noqa: E402
from skrnn._network import Network  # noqa: E402
from skrnn._params import Architecture, Layout  # noqa: E402
from skrnn._sequences import validate_sequences  # noqa: E402

pytestmark = pytest.mark.torch

TORCH_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
DTYPES = {np.float32: (torch.float32, 1e-5), np.float64: (torch.float64, 1e-10)}


class TorchTwin(nn.Module):
    """torch.nn model built from skrnn's public weight attributes."""

    def __init__(self, cell, n_inputs, hidden_sizes, bidirectional, relu, attrs, dtype):
        super().__init__()
        self.bidirectional = bidirectional
        self.n_dir = 2 if bidirectional else 1
        emb = attrs["embedding_"]
        self.embedding = None
        if emb is not None:
            self.embedding = nn.Embedding(*emb.shape).to(dtype)
            self.embedding.weight.data = torch.tensor(np.asarray(emb), dtype=dtype)
            n_inputs = emb.shape[1]
        self.layers = nn.ModuleList()
        for layer, hidden in enumerate(hidden_sizes):
            kwargs = {"nonlinearity": "relu" if relu else "tanh"} if cell == "rnn" else {}
            mod = TORCH_CELLS[cell](
                n_inputs, hidden, batch_first=True, bidirectional=bidirectional, **kwargs
            ).to(dtype)
            for d, w in enumerate(attrs["recurrent_weights_"][layer]):
                sfx = "_l0" + ("_reverse" if d else "")
                for key, value in w.items():
                    getattr(mod, key + sfx).data = torch.tensor(np.asarray(value), dtype=dtype)
            self.layers.append(mod)
            n_inputs = hidden * self.n_dir
        coef = attrs["coef_"]
        self.head = nn.Linear(coef.shape[1], coef.shape[0]).to(dtype)
        self.head.weight.data = torch.tensor(np.asarray(coef), dtype=dtype)
        self.head.bias.data = torch.tensor(np.asarray(attrs["intercept_"]), dtype=dtype)

    def forward(self, seqs, per_step):
        """``seqs``: list of tensors (T_i, F) or token-id tensors (T_i,)."""
        if self.embedding is not None:
            seqs = [self.embedding(s) for s in seqs]
        packed = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
        h_n = None
        for mod in self.layers:
            packed, h_n = mod(packed)
        if per_step:
            out, lengths = rnn_utils.pad_packed_sequence(packed, batch_first=True)
            steps = torch.cat([out[i, : lengths[i]] for i in range(len(seqs))])
            return self.head(steps)
        if isinstance(h_n, tuple):
            h_n = h_n[0]
        final = torch.cat([h_n[-self.n_dir + d] for d in range(self.n_dir)], dim=1)
        return self.head(final)


def _attrs(est_or_views):
    if isinstance(est_or_views, dict):
        return est_or_views
    return {k: getattr(est_or_views, k) for k in
            ("recurrent_weights_", "embedding_", "coef_", "intercept_")}


def _ragged(rng, n=7, n_features=3, dtype=np.float64):
    lengths = rng.randint(1, 9, size=n)
    return [rng.normal(size=(t, n_features)).astype(dtype) for t in lengths]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_classifier_matches_torch(cell, bidirectional, dtype):
    rng = np.random.RandomState(0)
    X = _ragged(rng, n=20, dtype=dtype)
    y = rng.randint(0, 3, size=20)
    clf = RNNClassifier(cell, (5, 4), bidirectional=bidirectional, max_iter=2,
                        random_state=0).fit(X, y)
    tdtype, tol = DTYPES[dtype]
    twin = TorchTwin(cell, 3, (5, 4), bidirectional, False, _attrs(clf), tdtype)
    with torch.no_grad():
        logits = twin([torch.tensor(x) for x in X], per_step=False).numpy()
    np.testing.assert_allclose(clf.decision_function(X), logits, rtol=tol, atol=tol)
    proba = torch.softmax(torch.tensor(logits), dim=1).numpy()
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_regressor_relu_and_tagger_match_torch(cell):
    rng = np.random.RandomState(1)
    X = _ragged(rng, n=12)
    y = rng.normal(size=(12, 2))
    activation = "relu" if cell == "rnn" else "tanh"
    reg = RNNRegressor(cell, (4,), activation=activation, bidirectional=True,
                       max_iter=2, random_state=0).fit(X, y)
    twin = TorchTwin(cell, 3, (4,), True, cell == "rnn", _attrs(reg), torch.float64)
    with torch.no_grad():
        expected = twin([torch.tensor(x) for x in X], per_step=False).numpy()
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-10, atol=1e-10)

    labels = [rng.choice(["a", "b", "c"], size=len(x)) for x in X]
    tagger = RNNSequenceTagger(cell, (4, 3), bidirectional=True, max_iter=2,
                               random_state=0).fit(X, labels)
    twin = TorchTwin(cell, 3, (4, 3), True, False, _attrs(tagger), torch.float64)
    with torch.no_grad():
        steps = torch.softmax(twin([torch.tensor(x) for x in X], per_step=True), 1).numpy()
    got = np.concatenate(tagger.predict_proba(X))
    np.testing.assert_allclose(got, steps, rtol=1e-10, atol=1e-10)


def _torch_loss(loss, logits, y, w, alpha, twin):
    w = torch.tensor(w)
    if loss == "binary":
        per = nn.functional.binary_cross_entropy_with_logits(
            logits[:, 0], torch.tensor(y), reduction="none")
    elif loss == "multiclass":
        per = nn.functional.cross_entropy(logits, torch.tensor(y), reduction="none")
    else:
        per = 0.5 * ((logits - torch.tensor(y)) ** 2).mean(dim=1)
    value = (w * per).sum() / w.sum()
    penalty = sum((p ** 2).sum() for name, p in twin.named_parameters()
                  if "bias" not in name)
    return value + 0.5 * alpha * penalty / w.sum()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize(
    "loss, n_outputs, per_step",
    [("binary", 1, False), ("multiclass", 3, True), ("squared", 2, False)],
)
@pytest.mark.parametrize("tokens, embedding_dim", [(False, None), (True, None), (True, 4)])
def test_gradients_match_torch_autograd(cell, loss, n_outputs, per_step, tokens, embedding_dim):
    rng = np.random.RandomState(2)
    vocab = 11
    if tokens:
        lengths = rng.randint(1, 7, size=6)
        X = [rng.randint(0, vocab, size=t) for t in lengths]
        from skrnn._tokens import TokenSequences
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        Xin = TokenSequences(np.concatenate(X), offsets, vocab)
    else:
        X = _ragged(rng, n=6)
        Xin = X

    class Holder:
        pass

    seqs = validate_sequences(Holder(), Xin, reset=True)
    arch = Architecture(cell, (4, 3), True, False, seqs.n_features, tokens,
                        embedding_dim, n_outputs)
    layout = Layout(arch)
    theta = layout.init_theta(rng, np.float64)
    n_rows = seqs.values.shape[0] if per_step else seqs.n_samples
    if loss == "binary":
        y = rng.randint(0, 2, n_rows).astype(np.float64)
    elif loss == "multiclass":
        y = rng.randint(0, n_outputs, n_rows).astype(np.int64)
    else:
        y = rng.normal(size=(n_rows, n_outputs))
    w = rng.uniform(0.5, 2.0, n_rows)
    batch = pack_batch(seqs, np.arange(seqs.n_samples), y=y, w=w, per_step=per_step)
    alpha = 0.1
    value, grad = Network(layout, loss, per_step).loss_and_grad(theta, batch, alpha)

    views = layout.views(theta)
    attrs = dict(views)
    if tokens and embedding_dim is None:
        # One-hot input reproduced in torch by gathering columns of weight_ih.
        attrs = dict(views, embedding_=np.eye(vocab))
    twin = TorchTwin(cell, seqs.n_features, (4, 3), True, False, attrs, torch.float64)
    if tokens and embedding_dim is None:
        twin.embedding.weight.requires_grad_(False)
    inputs = [torch.tensor(x) for x in X]
    out = twin(inputs, per_step=per_step)
    if not per_step:
        out = out  # sequence order is preserved by enforce_sorted=False
    # Our targets are in packed/sorted order inside the batch; torch sees original order.
    y_orig = np.empty_like(y)
    w_orig = np.empty_like(w)
    if per_step:
        y_orig[batch.rows] = batch.y
        w_orig[batch.rows] = batch.w
    else:
        y_orig, w_orig = y, w
    twin_params = [p for p in twin.parameters() if p.requires_grad]
    t_loss = _torch_loss(loss, out, y_orig, w_orig, alpha,
                         _OnlyTrainable(twin))
    t_loss.backward()
    assert value == pytest.approx(t_loss.item(), rel=1e-10)

    g = layout.views(grad)
    for layer, mod in enumerate(twin.layers):
        for d in range(2):
            sfx = "_l0" + ("_reverse" if d else "")
            for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                np.testing.assert_allclose(
                    g["recurrent_weights_"][layer][d][key],
                    getattr(mod, key + sfx).grad.numpy(), rtol=1e-8, atol=1e-11,
                    err_msg=f"layer {layer} direction {d} {key}")
    np.testing.assert_allclose(g["coef_"], twin.head.weight.grad.numpy(), rtol=1e-8, atol=1e-11)
    np.testing.assert_allclose(g["intercept_"], twin.head.bias.grad.numpy(), rtol=1e-8, atol=1e-11)
    if embedding_dim is not None:
        np.testing.assert_allclose(g["embedding_"], twin.embedding.weight.grad.numpy(),
                                   rtol=1e-8, atol=1e-11)
    assert twin_params


class _OnlyTrainable:
    """Named parameters that carry L2 in skrnn (the fixed one-hot table does not)."""

    def __init__(self, module):
        self.module = module

    def named_parameters(self):
        return [(n, p) for n, p in self.module.named_parameters() if p.requires_grad]
