"""One training step (forward + BPTT + Adam) of skrnn vs PyTorch, same data and model.

Batch of 32 sequences of 50 steps with 8 features (float32), one recurrent
layer and a one-unit output.  skrnn is timed through its internal
``Network.loss_and_grad`` + Adam on a packed batch (what ``fit`` runs per
mini-batch); torch through ``nn.RNN/LSTM/GRU`` + ``nn.Linear`` + ``Adam`` with
2 threads.  Medians of interleaved repeats, so machine noise hits both sides.

Run:  python benchmarks/bench_training_step.py [--hidden 32 128] [--repeats 7]
Requires torch (pip install torch==2.13.0).
"""

import argparse
import time

import numpy as np

from skrnn._batching import pack_batch
from skrnn._network import Network
from skrnn._optimizers import AdamOptimizer
from skrnn._params import Architecture, Layout
from skrnn._sequences import Sequences
from skrnn._threads import single_threaded_blas


def skrnn_step(cell, hidden, batch, steps, features, rng):
    dtype = np.float32
    values = rng.normal(size=(batch * steps, features)).astype(dtype)
    seqs = Sequences(values, np.arange(batch + 1, dtype=np.int64) * steps, features, False, dtype)
    layout = Layout(Architecture(cell, (hidden,), False, False, features, False, None, 1))
    network = Network(layout, "binary", False)
    theta = layout.init_theta(rng, dtype)
    optimizer = AdamOptimizer(theta.size, dtype)
    y = rng.randint(0, 2, batch).astype(dtype)
    idx = np.arange(batch)

    def step():
        packed = pack_batch(seqs, idx, y=y)
        _, grad = network.loss_and_grad(theta, packed, 1e-4)
        optimizer.update_params(theta, grad)

    return step


def torch_step(cell, hidden, batch, steps, features):
    import torch

    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        features, hidden, batch_first=True
    )
    head = torch.nn.Linear(hidden, 1)
    opt = torch.optim.Adam(list(module.parameters()) + list(head.parameters()))
    x = torch.randn(batch, steps, features)
    y = torch.randint(0, 2, (batch,)).float()

    def step():
        opt.zero_grad()
        _, h = module(x)
        h = h[0] if isinstance(h, tuple) else h
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(h[-1])[:, 0], y)
        loss.backward()
        opt.step()

    return step


def timed(step):
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--features", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    rng = np.random.RandomState(0)
    print(f"{'cell':>5} {'hidden':>6} {'skrnn ms':>9} {'torch ms':>9} {'speed-up':>8}")
    for cell in args.cells:
        for hidden in args.hidden:
            ours = skrnn_step(cell, hidden, args.batch, args.steps, args.features, rng)
            theirs = torch_step(cell, hidden, args.batch, args.steps, args.features)
            with single_threaded_blas():
                ours()  # compile / warm up
            theirs()
            a, b = [], []
            for _ in range(args.repeats):
                with single_threaded_blas():  # as fit runs it
                    a.append(timed(ours))
                b.append(timed(theirs))
            ma, mb = np.median(a) * 1e3, np.median(b) * 1e3
            print(f"{cell:>5} {hidden:>6} {ma:9.2f} {mb:9.2f} {mb / ma:7.2f}x", flush=True)


if __name__ == "__main__":
    main()
