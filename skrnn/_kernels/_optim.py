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


@numba.njit(cache=True, nogil=True)
def axpy(a, x, y):
    """``y += a * x`` in place (the L2 term's gradient)."""
    a_ = y.dtype.type(a)
    for i in range(x.shape[0]):
        y[i] += a_ * x[i]
