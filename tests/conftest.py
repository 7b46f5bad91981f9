"""Test-session setup shared by every test module."""

import os

# scikit-learn's array-API estimator checks (run by test_common.py) skip
# themselves unless SciPy was imported with its array-API support switched on,
# which is read once, at SciPy's import: set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
