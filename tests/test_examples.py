"""Every example runs, quickly, as a user would run it."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))
NEEDS_TORCH = {"plot_export_to_pytorch.py"}


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_under_30_seconds(path):
    if path.name in NEEDS_TORCH:
        pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    env = dict(os.environ, MPLBACKEND="Agg")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(path)], env=env, capture_output=True,
                            text=True, timeout=120)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "an example should show its results"
    assert elapsed < 30, f"{path.name} took {elapsed:.1f}s"
