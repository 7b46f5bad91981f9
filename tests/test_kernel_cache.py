"""Numba's cache entries for the kernels expire when any kernel module changes.

See skrnn/_kernels/_cache.py.
"""

import importlib
import shutil
import sys

import numba
import pytest

from skrnn._kernels import (_cache, _embedding, _gru, _lstm, _optim, _output, _packing, _part,
                            _rnn, _steps)

MODULES = [_embedding, _gru, _lstm, _optim, _output, _packing, _part, _rnn, _steps]


def _cached_dispatchers(module):
    for value in vars(module).values():
        if isinstance(value, numba.core.registry.CPUDispatcher) and value._cache is not None:
            if getattr(value.py_func, "__module__", None) == module.__name__:
                yield value


def _locator(dispatcher):
    impl = getattr(dispatcher._cache, "_impl", None)
    return getattr(impl, "_locator", None)


def test_every_cached_kernel_is_stamped_with_the_whole_package():
    seen = 0
    for module in MODULES:
        for dispatcher in _cached_dispatchers(module):
            locator = _locator(dispatcher)
            if locator is None:
                pytest.skip("this Numba keeps its cache locator elsewhere")
            assert type(locator).__name__.startswith("Kernels"), dispatcher.py_func.__qualname__
            assert locator.get_source_stamp() == _cache.kernels_stamp()
            seen += 1
    assert seen >= 15


def test_the_stamp_changes_with_any_kernel_module(tmp_path):
    copy = tmp_path / "kernels"
    shutil.copytree(_cache.KERNELS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = _cache.kernels_stamp(copy)
    assert _cache.kernels_stamp(copy) == before
    helper = copy / "_steps.py"
    helper.write_text(helper.read_text() + "\n# an edit of a helper module only\n")
    assert _cache.kernels_stamp(copy) != before


def test_functions_outside_the_package_keep_numbas_own_cache(tmp_path, monkeypatch):
    (tmp_path / "user_module_for_cache_test.py").write_text(
        "import numba\n\n@numba.njit(cache=True)\ndef double(x):\n    return 2 * x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("user_module_for_cache_test")
    try:
        locator = _locator(module.double)
        assert locator is not None and not type(locator).__name__.startswith("Kernels")
        assert module.double(2) == 4
    finally:
        sys.modules.pop("user_module_for_cache_test", None)
