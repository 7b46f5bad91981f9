"""Scalar activations for the cell kernels, inlined into their loops.

Constants come from the argument's dtype so float32 math stays float32.
"""

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def sigmoid(x):
    """Logistic function without overflow for large |x|."""
    one = x - x + 1
    if x >= 0:
        return one / (one + np.exp(-x))
    e = np.exp(x)
    return e / (one + e)


@numba.njit(cache=True, inline="always")
def relu(x):
    return x if x > 0 else x - x
