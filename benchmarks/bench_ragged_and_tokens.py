"""Ragged batches and token input: one training step of skrnn vs PyTorch's usual ways.

* ragged lengths 10..100 (batch 32, LSTM 128, 8 features): skrnn's packed
  kernels vs torch on a PackedSequence and on a zero-padded batch;
* tokens (vocabulary 10,000, T=100, batch 32, LSTM 128): skrnn with
  ``embedding_dim=64`` vs ``nn.Embedding`` + LSTM, and skrnn's one-hot input
  (no embedding) vs torch fed the same tokens as dense one-hot vectors.

All float32, forward + BPTT + Adam, medians of interleaved repeats.
Run:  python benchmarks/bench_ragged_and_tokens.py [--repeats 7]
torch is optional: without it only skrnn is timed.
"""

import argparse

import numpy as np
from _harness import interleaved_times, load_torch, result_row, skrnn_training_step

from skrnn._params import Architecture
from skrnn._sequences import Sequences

# Speed-up over each torch variant the issue asks for.
TARGETS = {
    "torch packed": 3.0,
    "torch padded": 1.5,
    "torch nn.Embedding": 1.2,
    "torch dense one-hot": 30.0,
}


def skrnn_step(seqs, arch, rng):
    return skrnn_training_step(seqs, arch, rng)


def torch_step(module_in, lstm, head, make_input, y):
    import torch

    params = list(lstm.parameters()) + list(head.parameters())
    if module_in is not None:
        params += list(module_in.parameters())
    opt = torch.optim.Adam(params)

    def step():
        opt.zero_grad()
        x = make_input()
        _, (h, _) = lstm(x)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(h[-1])[:, 0], y)
        loss.backward()
        opt.step()

    return step


def compare(name, ours, theirs, repeats, report=None):
    """Interleaved medians of skrnn's step and each torch variant's; one row per variant.

    ``theirs`` maps a variant's label to its step function, or to None when
    torch is missing (the row then has no torch time).
    """
    med = {k: v * 1e3 for k, v in interleaved_times({"skrnn": ours} | theirs, repeats).items()}
    rows = [
        result_row(f"{name} vs {label}", med["skrnn"], "ms", torch=med.get(label),
                   target=(">=", TARGETS[label]), benchmark=name, variant=label, repeats=repeats)
        for label in theirs
    ]
    if report is not None:
        report(rows)
    return rows


def print_rows(rows):
    """This script's historic line: skrnn's time, then each variant's and its ratio."""
    parts = ", ".join(
        f"{r['variant']} n/a" if r["torch"] is None
        else f"{r['variant']} {r['torch']:.1f} ms ({r['ratio']:.2f}x)"
        for r in rows
    )
    print(f"{rows[0]['benchmark']}: skrnn {rows[0]['skrnn']:.1f} ms; {parts}", flush=True)


def run(repeats=7, torch=None, report=None):
    """Time the ragged and token cases; return one row per (case, torch variant).

    ``torch`` is the module from ``load_torch()`` (None: skrnn only);
    ``report(rows)`` is called with each case's rows as they are ready.
    """
    rng = np.random.RandomState(0)
    batch, hidden = 32, 128
    rows = []

    # Ragged dense input.
    lengths = rng.randint(10, 101, size=batch)
    data = [rng.normal(size=(t, 8)).astype(np.float32) for t in lengths]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    seqs = Sequences(np.concatenate(data), offsets, 8, False, np.float32)
    ours = skrnn_step(seqs, Architecture("lstm", (hidden,), False, False, 8, False, None, 1), rng)
    theirs = {"torch packed": None, "torch padded": None}
    if torch is not None:
        y = torch.randint(0, 2, (batch,)).float()
        tensors = [torch.from_numpy(d) for d in data]
        packed = lambda: torch.nn.utils.rnn.pack_sequence(tensors, enforce_sorted=False)  # noqa: E731
        padded = torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True)
        lstm_a = torch.nn.LSTM(8, hidden, batch_first=True)
        lstm_b = torch.nn.LSTM(8, hidden, batch_first=True)
        theirs = {
            "torch packed": torch_step(None, lstm_a, torch.nn.Linear(hidden, 1), packed, y),
            "torch padded": torch_step(None, lstm_b, torch.nn.Linear(hidden, 1), lambda: padded, y),
        }
    rows += compare("ragged 10..100, LSTM 128", ours, theirs, repeats, report)

    # Token input.
    vocab, steps, emb = 10000, 100, 64
    ids = rng.randint(0, vocab, size=(batch, steps))
    tok = Sequences(ids.reshape(-1).astype(np.int64), np.arange(batch + 1, dtype=np.int64) * steps,
                    vocab, True, np.float32)

    def lstm(embedding_dim):
        return Architecture("lstm", (hidden,), False, False, vocab, True, embedding_dim, 1)

    ours_emb = skrnn_step(tok, lstm(emb), rng)
    ours_onehot = skrnn_step(tok, lstm(None), rng)
    theirs_emb, theirs_onehot = {"torch nn.Embedding": None}, {"torch dense one-hot": None}
    if torch is not None:
        ids_t = torch.from_numpy(ids)
        embedding = torch.nn.Embedding(vocab, emb)
        lstm_e = torch.nn.LSTM(emb, hidden, batch_first=True)
        theirs_emb["torch nn.Embedding"] = torch_step(
            embedding, lstm_e, torch.nn.Linear(hidden, 1), lambda: embedding(ids_t), y)
        lstm_o = torch.nn.LSTM(vocab, hidden, batch_first=True)
        onehot = torch.nn.functional.one_hot(ids_t, vocab).float()
        theirs_onehot["torch dense one-hot"] = torch_step(
            None, lstm_o, torch.nn.Linear(hidden, 1), lambda: onehot, y)
    rows += compare("tokens, embedding 64, LSTM 128", ours_emb, theirs_emb, repeats, report)
    # torch's dense one-hot step is ~1 s: fewer repeats.
    rows += compare("tokens as one-hot, LSTM 128", ours_onehot, theirs_onehot,
                    max(3, repeats // 2), report)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch = load_torch()
    if torch is None:
        print("torch is not installed: timing skrnn only.")
    run(args.repeats, torch=torch, report=print_rows)


if __name__ == "__main__":
    main()
