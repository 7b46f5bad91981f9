"""Plain-NumPy reference cells, written straight from the equations, one sequence at a time."""

import numpy as np


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def cell_step(cell, x, h, c, w_ih, w_hh, b_ih, b_hh, relu=False):
    """One step of one sequence; returns (h, c)."""
    if cell == "rnn":
        pre = w_ih @ x + b_ih + w_hh @ h + b_hh
        return (np.maximum(pre, 0) if relu else np.tanh(pre)), c
    if cell == "lstm":
        i, f, g, o = np.split(w_ih @ x + b_ih + w_hh @ h + b_hh, 4)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        return _sigmoid(o) * np.tanh(c), c
    xr, xz, xn = np.split(w_ih @ x + b_ih, 3)
    hr, hz, hn = np.split(w_hh @ h + b_hh, 3)
    r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h, c


def run_sequence(cell, x_seq, w_ih, w_hh, b_ih, b_hh, reverse=False, relu=False):
    """States (T, H) of one sequence; in input order also when reverse."""
    hidden = w_hh.shape[1]
    h = np.zeros(hidden, dtype=x_seq.dtype)
    c = np.zeros(hidden, dtype=x_seq.dtype)
    out = np.zeros((x_seq.shape[0], hidden), dtype=x_seq.dtype)
    steps = range(x_seq.shape[0] - 1, -1, -1) if reverse else range(x_seq.shape[0])
    for t in steps:
        h, c = cell_step(cell, x_seq[t], h, c, w_ih, w_hh, b_ih, b_hh, relu)
        out[t] = h
    return out
