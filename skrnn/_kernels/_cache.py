"""Numba's on-disk cache for the kernels, expiring when any kernel module changes.

Numba stamps a cached function with a hash of its own source file only.  A
kernel compiled against helpers of another module (``_steps.hh_forward``
inside ``_lstm.lstm_forward``) keeps their old code after that module
changes: an edit of ``_steps.py`` left ``lstm_forward`` running the
previous product code, 20 us slower per one-sequence predict, until its
cache was deleted by hand.  Kernels here are stamped with a hash of every
module of this package instead, so any change recompiles them all.

This replaces the stamp through Numba's cache-locator classes, which are
not a public API: where they differ from what this module expects, the
kernels keep Numba's own locators (and its per-file stamps).
"""

import hashlib
import os

from numba.core import caching

__all__ = ["kernels_stamp"]

KERNELS_DIR = os.path.dirname(os.path.abspath(__file__))


def kernels_stamp(directory=KERNELS_DIR):
    """SHA-256 over the names and contents of the ``.py`` files in ``directory``."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(directory)):
        if name.endswith(".py"):
            digest.update(name.encode())
            with open(os.path.join(directory, name), "rb") as f:
                digest.update(f.read())
    return digest.digest()


_STAMP = kernels_stamp()


def _package_wide(base):
    """``base``, a Numba locator class, restricted to this package and stamped package-wide."""

    class Locator(base):
        @classmethod
        def from_function(cls, py_func, py_file):
            if os.path.dirname(os.path.abspath(py_file)) != KERNELS_DIR:
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return _STAMP

    Locator.__name__ = Locator.__qualname__ = "Kernels" + base.__name__.lstrip("_")
    return Locator


def _install():
    # Numba >= 0.66 names these without the leading underscore.
    bases = [
        getattr(caching, name, None) or getattr(caching, "_" + name, None)
        for name in ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")
    ]
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    registry = getattr(impl, "_locator_classes", None)
    if None in bases or not isinstance(registry, list):
        return
    if any(getattr(cls, "__module__", None) == __name__ for cls in registry):
        return  # a reload of this module
    # Same order as Numba's: an explicit NUMBA_CACHE_DIR, then __pycache__
    # beside the source, then the user-wide directory.
    registry[:0] = [_package_wide(base) for base in bases]


_install()
