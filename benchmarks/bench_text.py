"""Token input at scale: TextOneHotEncoder + RNNClassifier on 20,000 documents.

Measures, for 20,000 documents of ~200 tokens over a 10,000-token vocabulary
and an LSTM with 64 hidden units:

* encoder fit + transform time and the size of its output;
* time of one training epoch on token input, against the same model fed
  dense 8-feature input of the same lengths (the issue's target: within 1.5x);
* the share of an epoch spent in the optimizer step on the vocabulary-wide
  ``weight_ih``;
* (all in float32, the fast path)
* peak resident memory of the process (no dense steps x vocabulary or
  vocabulary x hidden-per-batch work may appear anywhere).

Run:  python benchmarks/bench_text.py [--docs 20000] [--length 200] [--epochs 1]
"""

import argparse
import resource
import time
import warnings

import numpy as np

from skrnn import RNNClassifier, TextOneHotEncoder
from skrnn._optimizers import AdamOptimizer


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_corpus(n_docs, length, vocab, rng):
    # Zipf-like word frequencies, as in real text.
    ranks = np.arange(1, vocab + 1)
    p = 1.0 / ranks
    p /= p.sum()
    words = np.array([f"w{i}" for i in range(vocab)])
    lengths = rng.randint(length // 2, 3 * length // 2 + 1, size=n_docs)
    docs = [" ".join(words[rng.choice(vocab, size=t, p=p)]) for t in lengths]
    labels = rng.randint(0, 2, size=n_docs)
    return docs, labels, lengths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--length", type=int, default=200)
    parser.add_argument("--vocab", type=int, default=10000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)

    start = time.perf_counter()
    docs, y, lengths = make_corpus(args.docs, args.length, args.vocab, rng)
    print(f"corpus: {args.docs} docs, {lengths.sum()} tokens, generated in "
          f"{time.perf_counter() - start:.1f}s; peak RSS {peak_rss_mb():.0f} MB")

    start = time.perf_counter()
    enc = TextOneHotEncoder(max_features=args.vocab, dtype=np.float32)
    tokens = enc.fit_transform(docs)
    print(f"encoder fit_transform: {time.perf_counter() - start:.2f}s, width "
          f"{tokens.shape[1]}, {tokens.token_ids.nbytes / 1e6:.1f} MB of token ids; "
          f"peak RSS {peak_rss_mb():.0f} MB")

    params = dict(cell="lstm", hidden_layer_sizes=(args.hidden,), max_iter=args.epochs,
                  random_state=0, shuffle=True)
    # Warm up the compiled kernels on a small slice so timings exclude compilation.
    RNNClassifier(**{**params, "max_iter": 1}).fit(tokens[:64], y[:64])
    dense = [rng.normal(size=(t, 8)).astype(np.float32) for t in lengths]
    RNNClassifier(**{**params, "max_iter": 1}).fit(dense[:64], y[:64])

    start = time.perf_counter()
    clf = RNNClassifier(**params).fit(tokens, y)
    token_epoch = (time.perf_counter() - start) / clf.n_iter_
    print(f"token input: {token_epoch:.2f}s per epoch; peak RSS {peak_rss_mb():.0f} MB")

    start = time.perf_counter()
    clf_dense = RNNClassifier(**params).fit(dense, y)
    dense_epoch = (time.perf_counter() - start) / clf_dense.n_iter_
    print(f"dense 8-feature input: {dense_epoch:.2f}s per epoch; "
          f"peak RSS {peak_rss_mb():.0f} MB")
    print(f"token / dense epoch time: {token_epoch / dense_epoch:.2f}x (target <= 1.5x)")

    # Share of a mini-batch spent updating every parameter, vocabulary-wide
    # weight_ih included (dense Adam over the flat theta).
    n_params = clf._theta.size
    vocab_part = clf.recurrent_weights_[0][0]["weight_ih"].size
    optimizer = AdamOptimizer(n_params, np.float32)
    theta, grad = np.zeros(n_params, np.float32), np.ones(n_params, np.float32)
    optimizer.update_params(theta, grad)
    start = time.perf_counter()
    for _ in range(20):
        optimizer.update_params(theta, grad)
    adam = (time.perf_counter() - start) / 20
    n_batches = int(np.ceil(args.docs / 32))
    batch_time = token_epoch / n_batches
    print(f"Adam step over {n_params} parameters ({vocab_part} in the vocabulary-wide "
          f"weight_ih): {adam * 1e3:.2f} ms = {100 * adam / batch_time:.1f}% of a "
          f"{batch_time * 1e3:.0f} ms mini-batch")


if __name__ == "__main__":
    main()
