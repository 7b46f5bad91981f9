"""Run every benchmark, print skrnn vs torch side by side and regenerate the docs' results.

One command writes, from one run:

* ``docs/benchmark_results.json``: every row, the date, the machine and the command;
* ``docs/_static/benchmarks.png``: speed-ups vs torch against their targets, and
  training time vs total steps (log-log, fitted exponents);
* ``docs/benchmark_tables.md``: every table and the plot, a docs page that is
  never edited by hand.

Run:  python benchmarks/run_all.py            (full size, several minutes)
      python benchmarks/run_all.py --quick    (shrunk grids and repeats, < 2 minutes)

torch is optional: without it the torch columns read n/a.  Each table also
prints the command of the script that reproduces it alone.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import bench_compile
import bench_kernel_profile
import bench_long_sequences
import bench_predict
import bench_ragged_and_tokens
import bench_scaling
import bench_text
import bench_training_step
import numpy as np
from _harness import TORCH_THREADS, load_torch

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RESULTS_JSON = DOCS / "benchmark_results.json"
PLOT_PNG = DOCS / "_static" / "benchmarks.png"
TABLES_MD = DOCS / "benchmark_tables.md"
SPEEDUP = "speed-up (torch / skrnn)"


@dataclass
class Benchmark:
    """One table: which script's ``run`` to call, with which options.

    ``full``/``quick`` are keyword arguments of the script's ``run``, named as
    its command-line options (``fixed_T`` -> ``--fixed-T``) so the standalone
    command can be printed next to the table.
    """

    key: str
    title: str
    module: object
    full: dict
    quick: dict
    ratio_label: str = SPEEDUP
    uses_torch: bool = True
    # Run in a fresh interpreter: the script reports the process's peak RSS.
    fresh_process: bool = False

    def options(self, quick):
        return self.quick if quick else self.full

    def command(self, quick):
        """The command running this table's script alone with the same options."""
        parts = ["python", f"benchmarks/{self.module.__name__}.py"]
        for name, value in self.options(quick).items():
            parts.append("--" + name.replace("_", "-"))
            values = value if isinstance(value, (list, tuple)) else [value]
            parts.extend(str(v) for v in values)
        return shlex.join(parts)


BENCHMARKS = [
    Benchmark(
        "training_step", "One training step (forward + BPTT + Adam) vs PyTorch, batch 32, "
        "T 50, 8 features, float32", bench_training_step,
        full={"hidden": [32, 64, 128], "repeats": 11},
        quick={"hidden": [32, 64, 128], "repeats": 3}),
    Benchmark(
        "training_step_512", "One training step at hidden 512, batch 64 (the reference config: "
        "at least torch's speed for every cell)", bench_training_step,
        full={"batch": 64, "hidden": [512], "repeats": 7},
        quick={"batch": 64, "hidden": [512], "repeats": 3}),
    Benchmark(
        "kernel_profile", "Where a step's time goes: kernels and the dW_hh GEMM (batch 32, "
        "T 50, one thread) against this core's SGEMM peak (1024^3)", bench_kernel_profile,
        full={"hidden": [32, 64, 128, 512], "repeats": 15},
        quick={"hidden": [32, 128], "repeats": 3},
        ratio_label="share of SGEMM peak", uses_torch=False),
    Benchmark(
        "ragged_and_tokens", "Ragged batches and token input: one training step vs PyTorch, "
        "batch 32, LSTM 128", bench_ragged_and_tokens,
        full={"repeats": 7}, quick={"repeats": 2}),
    Benchmark(
        "predict", "Prediction vs PyTorch, LSTM 64, T 50, 8 features", bench_predict,
        full={"repeats": 200}, quick={"repeats": 30, "n_batch": 2000}),
    Benchmark(
        "scaling", "Scaling: time of one full training epoch (nothing extrapolated) vs total "
        "steps, RNNRegressor hidden 32, batch 32, float32", bench_scaling,
        full={"cells": ["gru", "lstm"], "lengths": [50, 200, 1000, 5000],
              "sizes": [1000, 10000, 100000], "fixed_n": 1000, "fixed_T": 50,
              # The shortest points are 30-50 ms fits: a median of 3 let one slow
              # phase of the machine move an exponent by 0.1.
              "repeats": 9},
        quick={"cells": ["gru"], "lengths": [50, 200, 1000], "sizes": [1000, 3000, 10000],
               "fixed_n": 1000, "fixed_T": 50, "repeats": 2},
        ratio_label="ratio", uses_torch=False),
    Benchmark(
        "long_sequences", "Very long sequences: GRU 16, one epoch, memory set by bptt_steps",
        bench_long_sequences, full={"steps": 100_000}, quick={"steps": 10_000},
        ratio_label="ratio", uses_torch=False),
    Benchmark(
        "text", "Token input at scale: TextOneHotEncoder + LSTM 64 (no torch counterpart)",
        bench_text, full={"docs": 20000}, quick={"docs": 1000, "length": 100},
        ratio_label="token / dense", uses_torch=False, fresh_process=True),
    Benchmark(
        "compile", "First fit and Numba compilation, fresh process per row", bench_compile,
        full={"cells": ["rnn", "lstm", "gru"]}, quick={"cells": ["lstm"]},
        ratio_label="ratio", uses_torch=False),
]


# -- running ------------------------------------------------------------------


# Runs a script's ``run(**kwargs)`` in a new interpreter and prints its rows as JSON.
FRESH_PROCESS_CODE = (
    "import json, sys; sys.path.insert(0, {path!r}); import {module} as m; "
    "print(json.dumps(m.run(**json.loads(sys.argv[1]))))"
)


def run_benchmark(bench, quick, torch):
    """Rows of one table; the script's ``run`` is called in-process or in a fresh one."""
    kwargs = dict(bench.options(quick))
    if bench.uses_torch:
        kwargs["torch"] = torch
    if not bench.fresh_process:
        return bench.module.run(**kwargs)
    # A new interpreter (not a fork, not multiprocessing, which re-imports
    # the caller's main module) so that the peak memory it reports is its own.
    code = FRESH_PROCESS_CODE.format(path=str(Path(__file__).resolve().parent),
                                     module=bench.module.__name__)
    out = subprocess.run([sys.executable, "-c", code, json.dumps(kwargs)], check=True,
                         stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout.splitlines()[-1])


def machine_info(torch):
    """CPU model, core counts and library versions of this run."""
    import numba
    import sklearn

    import skrnn

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "scikit-learn": sklearn.__version__,
        "skrnn": skrnn.__version__,
        "torch": None if torch is None else torch.__version__,
        "torch_threads": None if torch is None else TORCH_THREADS,
    }


def the_command(argv):
    """The exact command line of this run, as a user would type it."""
    script = os.path.relpath(os.path.abspath(argv[0]), Path.cwd())
    return shlex.join(["python", script, *argv[1:]])


# -- formatting -----------------------------------------------------------------


def fmt_value(value, unit):
    """``value`` with its unit and sensible decimals; n/a for None."""
    if value is None:
        return "n/a"
    if unit == "":
        return f"{value:.3f}"
    decimals = 0 if abs(value) >= 100 or unit == "us" else 2
    if unit == "s" and abs(value) < 0.1:
        decimals = 3
    return f"{value:.{decimals}f} {unit}".replace(" %", "%")


def display_cells(row):
    """The display cells of a row: case, skrnn, torch, ratio, target, met?, notes.

    A missing torch value is ``n/a`` (torch not installed); a row without a
    torch counterpart shows a dash.
    """
    torch_missing = "torch" in row and row["torch"] is None
    torch = fmt_value(row["torch"], row["unit"]) if "torch" in row else "-"
    ratio = "n/a" if torch_missing else "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
    target = row.get("target_text") or "-"
    if row["met"] is None:
        met = "n/a" if torch_missing and target != "-" else "-"
    else:
        met = "yes" if row["met"] else "NO"
    return [row["case"], fmt_value(row["skrnn"], row["unit"]), torch, ratio, target, met,
            row.get("note", "")]


def table_cells(bench, rows):
    """Header and display cells of a table, the notes column dropped when empty."""
    table = [["case", "skrnn", "torch", bench.ratio_label, "target", "met?", "notes"]]
    table += [display_cells(r) for r in rows]
    if not any(line[-1] for line in table[1:]):
        table = [line[:-1] for line in table]
    return table


def text_table(bench, rows):
    """Lines of a fixed-width table: text left-aligned, numbers right-aligned."""
    table = table_cells(bench, rows)
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = ["  ".join(c.ljust(w) if i in (0, len(widths) - 1) else c.rjust(w)
                       for i, (c, w) in enumerate(zip(line, widths))).rstrip()
             for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def markdown_table(bench, rows):
    """Lines of a markdown table (pipes escaped, >= / <= as symbols, misses in bold)."""
    table = table_cells(bench, rows)

    def md(cell):
        cell = "**no**" if cell == "NO" else cell
        return cell.replace("|", "\\|").replace(">=", "≥").replace("<=", "≤")

    lines = ["| " + " | ".join(md(c) for c in line) + " |" for line in table]
    lines.insert(1, "|" + " --- |" * len(table[0]))
    return lines


# -- outputs ----------------------------------------------------------------------


def _json_default(obj):
    # numpy scalars that slipped into a row's raw fields
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_json(results, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=_json_default) + "\n")


def plot_speedups(ax, tables):
    """Bars of skrnn's training-step speed-up per cell and hidden size, targets as ticks."""
    rows = tables.get("training_step", []) + tables.get("training_step_512", [])
    configs = sorted({(r["hidden"], r["batch"]) for r in rows})
    cell_names = [c for c in ("rnn", "lstm", "gru") if any(r["cell"] == c for r in rows)]
    width = 0.8 / max(len(configs), 1)
    drawn, target_label = False, "target"
    for j, (hidden, batch) in enumerate(configs):
        label = f"hidden {hidden}" + (f", batch {batch}" if batch != 32 else "")
        for i, cell in enumerate(cell_names):
            row = next((r for r in rows if (r["cell"], r["hidden"], r["batch"])
                        == (cell, hidden, batch)), None)
            if row is None:
                continue
            x = i - 0.4 + width * (j + 0.5)
            if row["ratio"] is not None:
                ax.bar(x, row["ratio"], width * 0.9, color=f"C{j}", label=label)
                ax.text(x, row["ratio"], f"{row['ratio']:.2f}", ha="center", va="bottom",
                        fontsize=7)
                label, drawn = None, True  # one legend entry per config
            if row.get("target_value") is not None:
                ax.hlines(row["target_value"], x - width / 2, x + width / 2, colors="black",
                          linewidth=2, label=target_label)
                target_label = None
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xticks(range(len(cell_names)), cell_names)
    ax.set_ylabel("speed-up over torch (x)")
    ax.set_title("One training step vs torch (black: target)")
    if drawn:
        # Headroom above the tallest bar keeps the legend off the bars.
        ax.set_ylim(0, 1.35 * max([r["ratio"] or 0 for r in rows] + [r.get("target_value") or 0
                                                                     for r in rows]))
        ax.legend(fontsize=7, loc="upper center", ncol=3)
    else:
        ax.text(0.5, 0.5, "torch not installed:\nno speed-ups", ha="center", va="center",
                transform=ax.transAxes)


def plot_other_ratios(ax, tables):
    """Horizontal bars of the other vs-torch ratios (ragged, tokens, predict), log scale."""
    rows = [r for key in ("ragged_and_tokens", "predict") for r in tables.get(key, [])]
    rows = [r for r in rows if r["ratio"] is not None]
    if not rows:
        ax.text(0.5, 0.5, "torch not installed:\nno speed-ups", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    y = np.arange(len(rows))
    ax.barh(y, [r["ratio"] for r in rows], color="C0")
    for k, r in enumerate(rows):
        if r.get("target_value") is not None:
            ax.vlines(r["target_value"], k - 0.4, k + 0.4, colors="black", linewidth=2)
    ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(y, [r["case"].replace(" vs ", "\nvs ") for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("speed-up over torch (x, log)")
    ax.set_title("Ragged, tokens, predict vs torch (black: target)")


def plot_scaling(ax, tables):
    """Log-log time vs total steps per cell and sweep, with the fitted power law."""
    rows = tables.get("scaling", [])
    fits = [r for r in rows if r.get("kind") == "exponent"]
    for k, fit in enumerate(fits):
        pts = [r for r in rows if r.get("kind") == "point" and r["cell"] == fit["cell"]
               and r["sweep"] == fit["sweep"]]
        steps = np.array([r["total_steps"] for r in pts], dtype=float)
        seconds = np.array([r["skrnn"] for r in pts])
        marker = "o" if fit["sweep"] == "T" else "s"
        ax.loglog(steps, seconds, marker, color=f"C{k}")
        line = np.geomspace(steps.min(), steps.max(), 20)
        ax.loglog(line, np.exp(fit["log_intercept"]) * line ** fit["exponent"], "-",
                  color=f"C{k}", label=f"{fit['cell']}, {fit['sweep']} varies: a = "
                                       f"{fit['exponent']:.2f}")
    ax.set_xlabel("total steps per epoch (n x T)")
    ax.set_ylabel("seconds per epoch")
    ax.set_title("Training time ~ steps^a (linear: a = 1)")
    if fits:
        ax.legend(fontsize=8)


def write_plot(tables, path, subtitle):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(17, 5), gridspec_kw={"width_ratios": [1.1, 1.2, 1]})
    plot_speedups(axes[0], tables)
    plot_other_ratios(axes[1], tables)
    plot_scaling(axes[2], tables)
    fig.suptitle(subtitle, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown_page(results):
    """The generated docs page: provenance, plot, then every table with its command."""
    m = results["machine"]
    torch = (f"torch {m['torch']} ({m['torch_threads']} threads)" if m["torch"]
             else "torch not installed (torch columns n/a)")
    lines = [
        # orphan: the page builds warning-free (docs build with -W) whether or
        # not a toctree lists it; docs/benchmarks.md links to it.
        "---",
        "orphan: true",
        "---",
        "<!-- Generated by `python benchmarks/run_all.py`; do not edit by hand. -->",
        "# Benchmark results (generated)",
        "",
        ("*This page is generated by `python benchmarks/run_all.py` and must not be edited "
         "by hand: rerun the command, which also rewrites `docs/benchmark_results.json` and "
         "`docs/_static/benchmarks.png`.*"),
        "",
        f"- command: `{results['command']}`",
        f"- date: {results['date']}",
        f"- machine: {m['cpu_model']}, {m['cores']} cores ({m['usable_cores']} usable)",
        (f"- versions: Python {m['python']}, numpy {m['numpy']}, numba {m['numba']}, "
         f"scikit-learn {m['scikit-learn']}, skrnn {m['skrnn']}, {torch}"),
    ]
    if results["quick"]:
        lines.append("- **quick run** (`--quick`): shrunk grids and few repeats, for checking "
                     "the pipeline; rerun without `--quick` for numbers to quote.")
    lines += ["", "![skrnn vs torch speed-ups and training-time scaling](_static/benchmarks.png)",
              ""]
    for table in results["tables"]:
        bench = next(b for b in BENCHMARKS if b.key == table["key"])
        lines += [f"## {table['title']}", "", f"This table alone: `{table['command']}`", ""]
        if table.get("error"):
            lines += [f"Failed: `{table['error']}`", ""]
            continue
        lines += markdown_table(bench, table["rows"]) + [""]
    return "\n".join(lines)


# -- main -----------------------------------------------------------------------------


def run_tables(quick, torch):
    """Run every benchmark, printing each table as it completes; return the tables."""
    tables = []
    for bench in BENCHMARKS:
        table = {"key": bench.key, "title": bench.title, "command": bench.command(quick)}
        print(f"\n== {bench.title}\n   alone: {table['command']}", flush=True)
        start = time.perf_counter()
        try:  # one broken benchmark must not lose the others' results
            table["rows"] = run_benchmark(bench, quick, torch)
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            table["rows"], table["error"] = [], f"{type(exc).__name__}: {exc}"
        table["seconds"] = time.perf_counter() - start
        tables.append(table)
        print("\n".join(text_table(bench, table["rows"])))
        print(f"   ({table['seconds']:.1f} s)", flush=True)
    return tables


def write_outputs(results):
    """Write the JSON results, the plot and the markdown page from one run's results."""
    write_json(results, RESULTS_JSON)
    subtitle = f"{results['command']}  |  {results['date']}  |  {results['machine']['cpu_model']}"
    write_plot({t["key"]: t["rows"] for t in results["tables"]}, PLOT_PNG, subtitle)
    TABLES_MD.write_text(markdown_page(results) + "\n")
    print(f"\nwrote {RESULTS_JSON.relative_to(ROOT)}, {PLOT_PNG.relative_to(ROOT)}, "
          f"{TABLES_MD.relative_to(ROOT)}")


def main(argv=None):
    """Run everything, print the tables, write the three outputs; 1 if a benchmark failed."""
    argv = sys.argv if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="shrink every benchmark (fewer repeats, smaller grids)")
    args = parser.parse_args(argv[1:])
    command = the_command(argv)
    print(f"command: {command}", flush=True)
    torch = load_torch()
    machine = machine_info(torch)
    print(f"machine: {machine['cpu_model']}, {machine['cores']} cores; numpy {machine['numpy']}, "
          f"numba {machine['numba']}, torch {machine['torch'] or 'not installed (n/a)'}",
          flush=True)

    start = time.perf_counter()
    results = {
        "command": command,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine,
        "tables": run_tables(args.quick, torch),
    }
    results["total_seconds"] = time.perf_counter() - start
    write_outputs(results)
    print(f"total {results['total_seconds']:.0f} s; command: {command}")
    return 1 if any("error" in t for t in results["tables"]) else 0


if __name__ == "__main__":
    sys.exit(main())
