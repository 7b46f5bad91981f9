"""Where a training step's time goes, against the machine's single-thread GEMM speed.

For each cell and hidden size (batch 32, T 50, float32, one thread as in ``fit``),
times the forward kernel, the backward kernel and the ``dW_hh`` GEMM, and
turns each into GFLOP/s of its matrix products (the recurrent products
``h_prev @ W_hh.T`` and ``dpre @ W_hh`` per step, ``h_prev.T @ dpre`` once).
The reference is a large square SGEMM on one thread (OpenBLAS, the library
the kernels call): how fast this core multiplies at best.  A kernel near
that speed is at the FLOP limit; the per-step products are small GEMMs
(32 rows), which no BLAS runs at large-GEMM speed.

Run:  python benchmarks/bench_kernel_profile.py [--hidden 32 64 128 512] [--repeats 15]
"""

import argparse
from functools import partial

import numpy as np
from _harness import median_time

from skrnn._kernels._gru import gru_backward, gru_forward
from skrnn._kernels._lstm import lstm_backward, lstm_forward
from skrnn._kernels._rnn import rnn_backward, rnn_forward
from skrnn._network import recurrent_blocks
from skrnn._threads import single_threaded_blas

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def median_ms(fn, repeats, setup=None):
    return median_time(fn, repeats, setup=setup) * 1e3


def peak_gflops(repeats, n=1024):
    """Single-thread SGEMM speed on a large square product (the core's practical peak)."""
    rng = np.random.RandomState(0)
    a = rng.rand(n, n).astype(np.float32)
    b = rng.rand(n, n).astype(np.float32)
    out = np.empty_like(a)
    with single_threaded_blas():
        ms = median_ms(lambda: np.matmul(a, b, out=out), repeats)
    return 2.0 * n**3 / (ms * 1e-3) / 1e9


def kernels(cell, hidden, batch, steps, rng):
    g = GATES[cell] * hidden
    n = batch * steps
    f32 = np.float32
    xproj = rng.normal(size=(n, g)).astype(f32)
    w_hh_t = (rng.normal(size=(hidden, g)) / np.sqrt(hidden)).astype(f32)  # W_hh.T, as stored
    b_hh = np.zeros(g, f32)
    h0 = np.zeros((batch, hidden), f32)
    sizes = np.full(steps, batch, dtype=np.int64)
    h = np.empty((n, hidden), f32)
    c, hn = np.empty_like(h), np.empty_like(h)
    gates = np.empty_like(xproj)
    dh = rng.normal(size=(n, hidden)).astype(f32)
    dx = np.empty_like(xproj)
    nb = recurrent_blocks([0, batch], 0, w_hh_t)  # the column blocks fit would use
    setup = {}
    if cell == "rnn":
        fwd = partial(rnn_forward, xproj, sizes, 0, batch, nb, w_hh_t, b_hh, h0, False, False, h)
        bwd = partial(rnn_backward, dh, sizes, 0, batch, nb, h, w_hh_t, False, False, dx)
    elif cell == "lstm":
        # As fit runs them: the forward writes its gates over xproj and the
        # backward turns them into dxproj, both in dx here.  Each timed call
        # starts from its input again, restored untimed.
        fwd = partial(lstm_forward, dx, sizes, 0, batch, nb, w_hh_t, b_hh, h0, h0, False, h, c, dx)
        setup["forward"] = partial(np.copyto, dx, xproj)
        setup["forward"]()
        fwd()
        np.copyto(gates, dx)
        bwd = partial(lstm_backward, dh, sizes, 0, batch, nb, h, c, dx, h0, w_hh_t, False)
        setup["backward"] = partial(np.copyto, dx, gates)
    else:
        fwd = partial(gru_forward, xproj, sizes, 0, batch, nb, w_hh_t, b_hh, h0, False, h, gates,
                      hn)
        # dhn: the n block of the state-side gradient, (N, H).
        bwd = partial(gru_backward, dh, sizes, 0, batch, nb, h, gates, hn, h0, w_hh_t, False, dx,
                      np.empty_like(h))
    dw = np.empty((hidden, g), f32)  # dW_hh.T, as the gradient is stored
    gemm = partial(np.matmul, h.T, dx, out=dw)
    flops = 2.0 * n * g * hidden  # one pass of products over every row
    return fwd, bwd, gemm, flops, setup


def profile(cells, hiddens, batch, steps, repeats):
    """Rows of (cell, hidden, part, ms, GFLOP/s)."""
    rng = np.random.RandomState(0)
    rows = []
    with single_threaded_blas():
        for cell in cells:
            for hidden in hiddens:
                fwd, bwd, gemm, flops, setup = kernels(cell, hidden, batch, steps, rng)
                for part, fn in (("forward", fwd), ("backward", bwd), ("dW_hh GEMM", gemm)):
                    ms = median_ms(fn, repeats, setup.get(part))
                    rows.append((cell, hidden, part, ms, flops / (ms * 1e-3) / 1e9))
    return rows


def run(cells=("rnn", "lstm", "gru"), hidden=(32, 64, 128, 512), batch=32, steps=50,
        repeats=15):
    """Result rows (``_harness.result_row``): milliseconds, ratio = share of the SGEMM peak."""
    from _harness import result_row

    peak = peak_gflops(repeats)
    return [
        result_row(f"{cell} {h}: {part}", ms, "ms", has_torch=False, ratio=gf / peak,
                   note=f"{gf:.0f} of {peak:.0f} GFLOP/s", cell=cell, hidden=h, part=part,
                   gflops=gf, peak_gflops=peak)
        for cell, h, part, ms, gf in profile(cells, hidden, batch, steps, repeats)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"])
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 64, 128, 512])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(f"command: python benchmarks/bench_kernel_profile.py --hidden "
          f"{' '.join(map(str, args.hidden))} --repeats {args.repeats}")
    peak = peak_gflops(args.repeats)
    print(f"single-thread SGEMM 1024^3: {peak:.1f} GFLOP/s")
    print(f"{'cell':>5} {'hidden':>6} {'part':>11} {'ms':>8} {'GFLOP/s':>8} {'of peak':>7}")
    for cell, hidden, part, ms, gf in profile(args.cells, args.hidden, args.batch, args.steps,
                                              args.repeats):
        print(f"{cell:>5} {hidden:>6} {part:>11} {ms:8.3f} {gf:8.1f} {gf / peak:6.0%}", flush=True)


if __name__ == "__main__":
    main()
