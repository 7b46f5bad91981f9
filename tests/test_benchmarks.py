"""The benchmark scripts still run and render: every table of ``run_all.py`` at toy sizes.

The timings mean nothing here (skrnn's side only, one repeat, a few steps);
what is checked is that each script keeps up with the code it times (they
reach into private modules, so a renamed internal breaks them without
failing anything else) and that their rows render into the text tables,
the docs page and the plot.  ``run_all.py`` itself writes into docs/, so
its pieces are called here on a temporary path.
"""

import math
import sys
from pathlib import Path

import pytest

BENCHMARKS_DIR = Path(__file__).resolve().parent.parent / "benchmarks"

# Toy options per table; the compile table starts fresh interpreters with an
# empty Numba cache, so it runs one cell only.
TOY = {
    "training_step": {"cells": ("lstm", "gru"), "hidden": (4,), "batch": 4, "steps": 5,
                      "features": 2, "repeats": 1},
    "training_step_512": {"cells": ("rnn",), "hidden": (6,), "batch": 3, "steps": 4,
                          "features": 2, "repeats": 1},
    "kernel_profile": {"cells": ("lstm",), "hidden": (4,), "batch": 4, "steps": 5, "repeats": 1},
    "ragged_and_tokens": {"repeats": 1},
    "predict": {"hidden": 4, "steps": 5, "repeats": 2, "n_batch": 50},
    "scaling": {"cells": ("gru",), "lengths": (5, 10), "sizes": (20, 40), "fixed_n": 20,
                "fixed_T": 5, "repeats": 1},
    "long_sequences": {"steps": 400, "n": 2, "bptt": 50},
    "text": {"docs": 64, "length": 20, "vocab": 50, "hidden": 4},
    "compile": {"cells": ("rnn",)},
}


@pytest.fixture(scope="module")
def run_all():
    sys.path.insert(0, str(BENCHMARKS_DIR))
    try:
        import run_all

        yield run_all
    finally:
        sys.path.remove(str(BENCHMARKS_DIR))


@pytest.fixture(scope="module")
def tables(run_all):
    """Every table's rows at toy sizes, as ``run_all.run_tables`` collects them."""
    assert {b.key for b in run_all.BENCHMARKS} == set(TOY), "a table without toy options"
    out = []
    for bench in run_all.BENCHMARKS:
        kwargs = dict(TOY[bench.key])
        if bench.uses_torch:
            kwargs["torch"] = None
        out.append({"key": bench.key, "title": bench.title, "command": bench.command(False),
                     "rows": bench.module.run(**kwargs)})
    return out


def test_every_table_gives_rows_of_finite_values(tables):
    for table in tables:
        assert table["rows"], table["key"]
        for row in table["rows"]:
            assert isinstance(row["case"], str) and row["case"]
            # Finite; a fitted exponent at toy sizes may even be negative.
            assert math.isfinite(row["skrnn"]), (table["key"], row)
            assert row.get("torch") is None, (table["key"], row)  # torch=None: skrnn only


def test_tables_render_as_text_markdown_page_and_plot(run_all, tables, tmp_path):
    for table in tables:
        bench = next(b for b in run_all.BENCHMARKS if b.key == table["key"])
        assert run_all.text_table(bench, table["rows"])
        assert run_all.markdown_table(bench, table["rows"])
    results = {"command": "python benchmarks/run_all.py", "date": "today", "quick": True,
               "machine": run_all.machine_info(None), "tables": tables}
    page = run_all.markdown_page(results)
    assert all(f"## {t['title']}" in page for t in tables)
    run_all.write_json(results, tmp_path / "results.json")
    by_key = {t["key"]: t["rows"] for t in tables}
    run_all.write_plot(by_key, tmp_path / "plot.png", "toy run")
    assert (tmp_path / "plot.png").stat().st_size > 0
    assert (tmp_path / "results.json").stat().st_size > 0
