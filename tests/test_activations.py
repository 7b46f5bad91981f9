"""Accuracy of the cell activations: exact in float64, a tested approximation in float32."""

import numba
import numpy as np

from skrnn._kernels._activations import sigmoid, tanh


@numba.njit(cache=True)
def _apply(x, out_tanh, out_sigmoid):
    for i in range(x.shape[0]):
        out_tanh[i] = tanh(x[i])
        out_sigmoid[i] = sigmoid(x[i])


def _run(x):
    t, s = np.empty_like(x), np.empty_like(x)
    _apply(x, t, s)
    return t, s


def test_float32_approximation_error_is_a_few_ulps_of_one():
    x = np.linspace(-30, 30, 2_000_001, dtype=np.float32)
    t, s = _run(x)
    exact_t = np.tanh(x.astype(np.float64))
    exact_s = 1 / (1 + np.exp(-x.astype(np.float64)))
    assert np.abs(t - exact_t).max() < 4e-7
    assert np.abs(s - exact_s).max() < 4e-7
    assert t.dtype == s.dtype == np.float32
    # Saturation, symmetry, bounds and exact zero.
    assert t[0] == -1 and t[-1] == 1 and s[0] >= 0 and s[-1] <= 1
    np.testing.assert_array_equal(t, -t[::-1])
    assert _run(np.zeros(1, np.float32))[0][0] == 0


def test_float64_is_exact_and_finite_at_extremes():
    x = np.array([-1e308, -800.0, -1.0, 0.0, 0.5, 800.0, 1e308])
    t, s = _run(x)
    np.testing.assert_array_equal(t, np.tanh(x))
    np.testing.assert_allclose(s, [0, 0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-0.5)), 1, 1])
    assert np.all(np.isfinite(s))
