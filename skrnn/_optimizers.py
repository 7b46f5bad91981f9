"""Optimizer state for flat parameter vectors (interface of sklearn's MLP optimizers).

``update_params(theta, grad)`` updates ``theta`` in place; ``iteration_ends``
is called after each epoch (learning-rate schedules); ``trigger_stopping``
lets the adaptive schedule shrink the rate instead of stopping.
"""

import numpy as np

from ._kernels._optim import adam_update, sgd_momentum_update
from ._threads import run_halves


def _same_layout(state, theta):
    return state.shape == theta.shape and state.dtype == theta.dtype


class SGDOptimizer:
    """Stochastic gradient descent with momentum and learning-rate schedules."""

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init=0.1,
        lr_schedule="constant",
        momentum=0.9,
        nesterov=True,
        power_t=0.5,
    ):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocity = np.zeros(n_params, dtype=dtype)

    def fits(self, theta):
        """Whether this state belongs to parameters of ``theta``'s size and dtype."""
        return _same_layout(self.velocity, theta)

    def update_params(self, theta, grad):
        velocity, lr, momentum, nesterov = (
            self.velocity, self.learning_rate, self.momentum, self.nesterov
        )
        run_halves(
            lambda lo, hi: sgd_momentum_update(
                theta[lo:hi], grad[lo:hi], velocity[lo:hi], lr, momentum, nesterov
            ),
            theta.shape[0],
        )

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (
                (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        if self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False


class AdamOptimizer:
    """Adam (Kingma & Ba), bias-corrected step size as in sklearn's AdamOptimizer."""

    def __init__(
        self, n_params, dtype, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999,
        epsilon=1e-8,
    ):
        self.learning_rate_init = learning_rate_init
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = np.zeros(n_params, dtype=dtype)
        self.vs = np.zeros(n_params, dtype=dtype)

    def fits(self, theta):
        """Whether this state belongs to parameters of ``theta``'s size and dtype."""
        return _same_layout(self.ms, theta)

    @property
    def learning_rate(self):
        return (
            self.learning_rate_init
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )

    def update_params(self, theta, grad):
        self.t += 1
        ms, vs, lr = self.ms, self.vs, float(self.learning_rate)
        b1, b2, eps = self.beta_1, self.beta_2, self.epsilon
        run_halves(
            lambda lo, hi: adam_update(
                theta[lo:hi], grad[lo:hi], ms[lo:hi], vs[lo:hi], lr, b1, b2, eps
            ),
            theta.shape[0],
        )

    def iteration_ends(self, time_step):
        pass

    def trigger_stopping(self, msg, verbose):
        if verbose:
            print(msg + " Stopping.")
        return True
