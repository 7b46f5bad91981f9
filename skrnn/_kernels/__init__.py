# Not empty, unlike the rest of the package's __init__ files: Numba picks a
# function's cache locator when its @njit(cache=True) decorator runs, so the
# package-wide cache stamp (_cache.py) must be registered before any kernel
# module is imported.  It compiles nothing.
from . import _cache  # noqa: F401
