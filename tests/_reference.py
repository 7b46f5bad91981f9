"""Plain-NumPy reference for the recurrent cells, and a packer for comparing with the kernels.

The cells are written straight from the equations (PyTorch's conventions, as
in API.md), one sequence at a time, with none of the packed layout, so they
share no code and no index arithmetic with ``skrnn._kernels``.  The packer
builds the time-major, length-sorted layout of docs/internals.md just as
independently, so a test can feed the kernels and map their rows back.
"""

from types import SimpleNamespace

import numpy as np


def sigmoid(x):
    # exp of non-positive numbers only: no overflow warning for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def cell_step(cell, x, h, c, w_ih, w_hh, b_ih, b_hh, relu=False):
    """One step of one sequence: ``(h, c, gates, hn)``.

    ``gates`` are the activated gates in PyTorch order (rnn: none; lstm: i, f,
    g, o; gru: r, z, n), ``hn = W_hn h + b_hn`` (gru only); ``c`` is passed
    through unchanged for rnn and gru.
    """
    if cell == "rnn":
        pre = w_ih @ x + b_ih + w_hh @ h + b_hh
        return (np.maximum(pre, 0) if relu else np.tanh(pre)), c, pre[:0], None
    if cell == "lstm":
        pi, pf, pg, po = np.split(w_ih @ x + b_ih + w_hh @ h + b_hh, 4)
        i, f, g, o = sigmoid(pi), sigmoid(pf), np.tanh(pg), sigmoid(po)
        c = f * c + i * g
        return o * np.tanh(c), c, np.concatenate([i, f, g, o]), None
    if cell == "gru":
        xr, xz, xn = np.split(w_ih @ x + b_ih, 3)
        hr, hz, hn = np.split(w_hh @ h + b_hh, 3)
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        n = np.tanh(xn + r * hn)
        return (1 - z) * n + z * h, c, np.concatenate([r, z, n]), hn
    raise ValueError(cell)


def run_sequence(cell, x_seq, w_ih, w_hh, b_ih, b_hh, reverse=False, relu=False,
                 h0=None, c0=None, full=False):
    """States ``(T, H)`` of one sequence, indexed by input step also when ``reverse``.

    The reverse direction reads the sequence from its last step to its first.
    ``h0``/``c0`` (default zero) is the state before the first step processed.
    With ``full=True`` returns a dict of ``h``, ``c``, ``gates`` and ``hn``
    per step (``c`` meaningful for lstm, ``hn`` for gru).
    """
    n_steps = x_seq.shape[0]
    hidden = w_hh.shape[1]
    h = np.zeros(hidden) if h0 is None else np.asarray(h0, dtype=float)
    c = np.zeros(hidden) if c0 is None else np.asarray(c0, dtype=float)
    out = {
        "h": np.zeros((n_steps, hidden)),
        "c": np.zeros((n_steps, hidden)),
        "gates": np.zeros((n_steps, w_hh.shape[0] if cell != "rnn" else 0)),
        "hn": np.zeros((n_steps, hidden)),
    }
    steps = range(n_steps - 1, -1, -1) if reverse else range(n_steps)
    for t in steps:
        h, c, gates, hn = cell_step(cell, x_seq[t], h, c, w_ih, w_hh, b_ih, b_hh, relu)
        out["h"][t], out["c"][t], out["gates"][t] = h, c, gates
        if hn is not None:
            out["hn"][t] = hn
    return out if full else out["h"]


def pack_sequences(seqs):
    """Packed, time-major batch of ragged ``(T_i, F)`` sequences (docs/internals.md).

    Returns a namespace with ``order`` (sorted position -> sequence, stable by
    decreasing length), ``batch_sizes`` (int64), for every packed row its
    sequence ``seq``, step ``step`` and sorted position ``pos``, and ``x``, the
    packed inputs ``(N, F)`` (C-contiguous, the dtype of the sequences).
    """
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    n_steps = int(lengths.max()) if len(seqs) else 0
    batch_sizes = np.array([(lengths > t).sum() for t in range(n_steps)], dtype=np.int64)
    seq, step, pos = [], [], []
    for t in range(n_steps):
        for b in range(batch_sizes[t]):
            seq.append(order[b])
            step.append(t)
            pos.append(b)
    seq = np.array(seq, dtype=np.int64)
    step = np.array(step, dtype=np.int64)
    x = np.zeros((len(seq), seqs[0].shape[1]), dtype=seqs[0].dtype)
    for r, (i, t) in enumerate(zip(seq, step)):
        x[r] = seqs[i][t]
    return SimpleNamespace(
        order=order, lengths=lengths, batch_sizes=batch_sizes, seq=seq, step=step,
        pos=np.array(pos, dtype=np.int64), x=x,
    )


def to_packed(per_sequence, batch):
    """Rows of per-sequence arrays ``[(T_i, ...)]`` in the packed order of ``batch``."""
    width = per_sequence[0].shape[1:]
    out = np.zeros((batch.seq.shape[0],) + width)
    for r, (i, t) in enumerate(zip(batch.seq, batch.step)):
        out[r] = per_sequence[i][t]
    return out
