"""Central finite differences, shared by the kernel, network and truncated-BPTT gradient checks."""

import numpy as np


def numeric_gradient(loss, a, eps=1e-6):
    """Central differences of ``loss()`` with respect to the array ``a``, perturbed in place."""
    grad = np.empty_like(a)
    flat = a.reshape(-1)  # a view: perturbing flat perturbs a
    for k in range(flat.shape[0]):
        old = flat[k]
        flat[k] = old + eps
        up = loss()
        flat[k] = old - eps
        down = loss()
        flat[k] = old
        grad.flat[k] = (up - down) / (2 * eps)
    return grad
