"""In-place optimizer updates on flat parameter vectors."""

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, error_model="numpy")
def adam_update(theta, grad, m, v, lr, beta1, beta2, eps):
    """One Adam step; ``lr`` already carries the bias correction (as sklearn's Adam)."""
    b1 = theta.dtype.type(beta1)
    b2 = theta.dtype.type(beta2)
    one = theta.dtype.type(1.0)
    lr_ = theta.dtype.type(lr)
    eps_ = theta.dtype.type(eps)
    for i in range(theta.shape[0]):
        g = grad[i]
        m[i] = b1 * m[i] + (one - b1) * g
        v[i] = b2 * v[i] + (one - b2) * g * g
        theta[i] -= lr_ * m[i] / (np.sqrt(v[i]) + eps_)


@numba.njit(cache=True, nogil=True)
def sgd_momentum_update(theta, grad, velocity, lr, momentum, nesterov):
    """One SGD step with (Nesterov) momentum, in sklearn's SGDOptimizer form."""
    lr_ = theta.dtype.type(lr)
    mu = theta.dtype.type(momentum)
    for i in range(theta.shape[0]):
        velocity[i] = mu * velocity[i] - lr_ * grad[i]
        if nesterov:
            theta[i] += mu * velocity[i] - lr_ * grad[i]
        else:
            theta[i] += velocity[i]


# "reassoc" lets LLVM sum the squares in vector lanes (a fixed order for a
# given build): summed one by one, each add waits on the last (an LSTM-128's
# 70,785 weights took 64 us, 12 in lanes).  It allows nothing else: no fused
# multiply-adds ("contract"): the gradient is ``grad + scale * theta`` as written.
@numba.njit(cache=True, nogil=True, fastmath={"reassoc"})
def add_l2(theta, grad, ranges, scale):
    """``grad[a:b] += scale * theta[a:b]`` for every row ``(a, b)`` of ``ranges``.

    Returns the sum of ``theta[a:b] ** 2`` over them, in float64.  The L2
    term of a small network in one call: from Python, a dot product and an
    update per weight matrix took ~14 us of an LSTM-32 step.
    """
    s = grad.dtype.type(scale)
    total = 0.0
    for r in range(ranges.shape[0]):
        # Slices and a sum of their own: over theta's indices with one total
        # across the ranges, neither loop was vectorised (58 us).
        weights = theta[ranges[r, 0] : ranges[r, 1]]
        target = grad[ranges[r, 0] : ranges[r, 1]]
        for i in range(weights.shape[0]):
            target[i] += s * weights[i]
        squares = 0.0
        for i in range(weights.shape[0]):
            v = np.float64(weights[i])
            squares += v * v
        total += squares
    return total
