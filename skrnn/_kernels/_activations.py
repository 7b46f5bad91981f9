"""Scalar activations and their derivatives for the cell kernels, inlined into their loops.

float64 uses the exact ``np.tanh``/``np.exp`` (agreement with PyTorch to
1e-10).  float32, the fast path, uses a rational approximation of tanh,
``x P(x^2) / Q(x^2)`` with P, Q of degree 4 in ``x^2``, fitted to tanh on
[0, 9] (|x| > 9 saturates to +-1 in float32 anyway).  Its maximum absolute
error, checked over a dense grid in tests/test_activations.py, is below
4e-7, a few float32 ulps of 1.  Unlike a call into libm it is branch-free
arithmetic, so LLVM vectorises the gate loops around it.  The sigmoid is
``(1 + tanh(x / 2)) / 2``.

The polynomials are evaluated with ``mul_add``, LLVM's ``fmuladd``: one
fused instruction where the CPU has FMA, and the same choice in a loop's
vector body and its scalar remainder, so a value computes bit for bit the
same whichever part of a loop it falls in (Numba's ``fastmath`` contraction
fuses the two differently, which broke that; docs/benchmarks.md, twelfth
session).

The derivatives take the activation's *output* (what the forward kernels
store), so BPTT never re-evaluates an exponential: ``sigmoid' = s (1 - s)``,
``tanh' = 1 - t^2``, ``relu' = [y > 0]``.

Constants come from the argument's dtype so float32 math stays float32: a
Python literal such as ``1.0`` would promote it to float64 inside Numba.
"""

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

_XMAX = np.float32(9.0)
_P = [np.float32(c) for c in (
    0.9999999230669192, 0.1338476993796404, 0.003500271212438418,
    2.0695049863884808e-05, 1.3489845792506262e-08,
)]
_Q = [np.float32(c) for c in (
    1.0, 0.4671807293642081, 0.025894197388639534,
    0.00032936830318295993, 7.828520432093551e-07,
)]
P0, P1, P2, P3, P4 = _P
Q0, Q1, Q2, Q3, Q4 = _Q
_HALF32 = np.float32(0.5)
_ONE32 = np.float32(1.0)
_ONE64 = np.float64(1.0)


# The Python bodies below run only under NUMBA_DISABLE_JIT; compiled code uses
# the overloads, chosen at compile time by the argument's type.

def tanh(x):
    """Hyperbolic tangent (exact; approximated in float32 under Numba)."""
    return np.tanh(x)


def sigmoid(x):
    """Logistic function, stable for large |x| (approximated in float32 under Numba)."""
    # exp of a non-positive number only: no overflow for large |x|.
    if x >= 0:
        return 1 / (1 + np.exp(-x))
    e = np.exp(x)
    return e / (1 + e)


def one_like(x):
    """1 in the floating type of ``x``."""
    return type(x)(1)


@intrinsic
def mul_add(typingctx, a, b, c):
    """``a * b + c`` of one float type, fused into one rounding where the CPU has FMA."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        ty = args[0].type
        name = "llvm.fmuladd.f32" if a.bitwidth == 32 else "llvm.fmuladd.f64"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * 3), name)
        return builder.call(fn, args)

    return a(a, a, a), codegen


@numba.njit(inline="always")
def _tanh32(x):
    xc = min(max(x, -_XMAX), _XMAX)
    s = xc * xc
    p = mul_add(mul_add(mul_add(mul_add(P4, s, P3), s, P2), s, P1), s, P0)
    q = mul_add(mul_add(mul_add(mul_add(Q4, s, Q3), s, Q2), s, Q1), s, Q0)
    return min(max(xc * p / q, -_ONE32), _ONE32)


@numba.njit(inline="always")
def _sigmoid64(x):
    one = x - x + 1
    if x >= 0:
        return one / (one + np.exp(-x))
    e = np.exp(x)
    return e / (one + e)


@numba.njit(inline="always")
def _sigmoid32(x):
    return mul_add(_HALF32, _tanh32(_HALF32 * x), _HALF32)


@numba.njit(inline="always")
def _tanh64(x):
    return np.tanh(x)


def _is_float32(x):
    return isinstance(x, types.Float) and x.bitwidth == 32


@overload(tanh)
def _tanh_overload(x):
    if _is_float32(x):
        return _tanh32.py_func
    return _tanh64.py_func


@overload(sigmoid)
def _sigmoid_overload(x):
    if _is_float32(x):
        return _sigmoid32.py_func
    return _sigmoid64.py_func


@overload(one_like)
def _one_like_overload(x):
    if _is_float32(x):
        return lambda x: _ONE32
    return lambda x: _ONE64


@numba.njit(cache=True, inline="always")
def relu(x):
    """max(x, 0) in the type of ``x``; NaN stays NaN (as torch's relu)."""
    return x if x > 0 else x - x


@numba.njit(cache=True, inline="always")
def dsigmoid(s):
    """Derivative of the sigmoid from its output ``s``."""
    return s * (one_like(s) - s)


@numba.njit(cache=True, inline="always")
def dtanh(t):
    """Derivative of tanh from its output ``t``."""
    return one_like(t) - t * t


@numba.njit(cache=True, inline="always")
def drelu(y):
    """Derivative of relu from its output ``y`` (0 at the kink, as torch)."""
    return one_like(y) if y > 0 else y - y
