"""Small argument checks shared by the dataset generators."""

import numbers

import numpy as np

from sklearn.utils import check_scalar


def _check_int(value, name, *, min_val=None, max_val=None):
    """Check that ``value`` is an integer (not a bool) within bounds.

    Raises ``TypeError`` for a wrong type and ``ValueError`` for a value out
    of range, with scikit-learn's ``check_scalar`` messages.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an instance of int, not bool.")
    return int(check_scalar(value, name, numbers.Integral, min_val=min_val, max_val=max_val))


def _check_float(value, name, *, min_val=None, max_val=None, include_boundaries="both"):
    """Check that ``value`` is a real number (not a bool) within bounds."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an instance of float, not bool.")
    return float(
        check_scalar(
            value,
            name,
            numbers.Real,
            min_val=min_val,
            max_val=max_val,
            include_boundaries=include_boundaries,
        )
    )


def _check_bool(value, name):
    """Check that ``value`` is a bool (numpy bools accepted)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}.")
    return bool(value)


def _check_length_range(min_length, max_length, *, min_val):
    """Check a ``[min_length, max_length]`` range of sequence lengths; return both as ints."""
    min_length = _check_int(min_length, "min_length", min_val=min_val)
    max_length = _check_int(max_length, "max_length", min_val=min_val)
    if min_length > max_length:
        raise ValueError(
            f"min_length must not exceed max_length, got min_length={min_length} "
            f"and max_length={max_length}."
        )
    return min_length, max_length
