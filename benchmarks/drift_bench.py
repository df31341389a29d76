"""``python -m benchmarks.run --suite drift``: Shipyard's drift detection beside Evidently's.

Both tools compare the same seeded tables, each in a fresh process
(``benchmarks/drift_driver.py``), one after the other:

- **speed and memory** on mixed tables (half numerical, half categorical) of
  100k x 20, 1M x 20 and 100k x 100: wall time of the comparison (data
  already loaded, imports done) and the process's peak RSS; each size twice,
  against an unshifted and a shifted current table;
- **detection**: the share of the shifted columns each tool flags, and
  **false alarms**: flagged columns when nothing changed, on the same large
  tables and on small windows (500 rows against 500, where both tools use
  p-value tests and a false-alarm rate can be compared with the nominal 5%).

Evidently runs its ``DataDriftPreset`` with its defaults, in its own venv
(``benchmarks/.work/evidently-venv``, a plain ``pip install evidently``);
Shipyard runs ``shipyard.monitoring.drift`` with its defaults.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from rich.console import Console
from rich.table import Table

from benchmarks.drift_data import KINDS, column_names, make_table, shifted_columns
from benchmarks.environment import WORK
from benchmarks.report import Row, print_table

EVIDENTLY_VENV = WORK / "evidently-venv"
# Evidently 0.7 imports a pandas helper that pandas 3 removed, without capping pandas.
EVIDENTLY_EXTRA = ("pandas<3",)
DRIVER = Path(__file__).resolve().parent / "drift_driver.py"
ROOT = DRIVER.parent.parent
TARGET_SPEEDUP = 20.0  # at 1M rows


@dataclass(frozen=True)
class DriftSizes:
    tables: tuple[tuple[int, int], ...]  # (rows, columns)
    window_rows: int = 500
    window_columns: int = 100
    window_seeds: int = 10  # unshifted windows: window_columns trials each


DRIFT_FULL = DriftSizes(tables=((100_000, 20), (1_000_000, 20), (100_000, 100)))
DRIFT_QUICK = DriftSizes(tables=((20_000, 20), (20_000, 50)), window_seeds=1)


def ensure_evidently(console: Console, requirement: str = "evidently") -> str:
    """Create Evidently's venv and install it when missing; returns its version."""
    python = EVIDENTLY_VENV / "bin" / "python"
    probe = [str(python), "-c", "import evidently; print(evidently.__version__)"]
    if not python.exists():
        console.print(f"Creating Evidently's virtual environment in {EVIDENTLY_VENV} ...")
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
    found = subprocess.run(probe, capture_output=True, text=True, check=False)
    if found.returncode != 0:
        console.print(f"Installing {requirement} into {EVIDENTLY_VENV} (a few minutes, once) ...")
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, requirement, *EVIDENTLY_EXTRA], check=True)
        found = subprocess.run(probe, capture_output=True, text=True, check=True)
    return found.stdout.strip()


# -- running -------------------------------------------------------------------


class DriverError(RuntimeError):
    pass


def _driver(tool: str, args: dict[str, Any], timeout: float = 3600) -> dict[str, Any]:
    python = str(EVIDENTLY_VENV / "bin" / "python") if tool == "evidently" else sys.executable
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    done = subprocess.run(
        [python, str(DRIVER), tool, json.dumps(args)],
        cwd=ROOT,
        env={**env, "DO_NOT_TRACK": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise DriverError(f"{tool} driver failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


@dataclass
class Quality:
    """Detection or false alarms of both tools on one case."""

    id: str
    label: str
    trials: int  # columns that could be flagged
    shipyard: int
    evidently: int
    expected: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["shipyard_share"] = self.shipyard / self.trials if self.trials else None
        data["evidently_share"] = self.evidently / self.trials if self.trials else None
        return data


class DriftBench:
    def __init__(self, sizes: DriftSizes, work: Path, console: Console) -> None:
        self.sizes = sizes
        self.work = work
        self.console = console
        self.rows: list[Row] = []
        self.quality: list[Quality] = []
        self.notes: list[str] = []
        self.versions: dict[str, str] = {}

    def step(self, text: str) -> None:
        self.console.print(f"[bold cyan]>[/] {text}")

    def _write(self, table: pa.Table, name: str) -> str:
        path = self.work / f"{name}.parquet"
        pq.write_table(table, path)
        return str(path)

    def _both(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        ev = _driver("evidently", args)
        sy = _driver("shipyard", args)
        self.versions.update(
            evidently=ev["version"],
            evidently_pandas=ev["pandas"],
            shipyard=sy["version"],
            shipyard_pandas=sy["pandas"],
        )
        return sy, ev

    def tables(self, rows: int, columns: int) -> None:
        size = f"{rows:,} x {columns}"
        tag = f"{rows}x{columns}"
        self.step(f"{size}: writing the tables")
        shifted = shifted_columns(columns)
        reference = self._write(make_table(rows, columns, 1), f"ref-{tag}")
        same = self._write(make_table(rows, columns, 2), f"same-{tag}")
        moved = self._write(make_table(rows, columns, 3, shifted), f"moved-{tag}")
        numerical, categorical = column_names(columns)
        names = [f"{KINDS[i % 10]}_{i}" for i in range(columns)]
        moved_names = {names[i] for i in shifted}
        common = {"reference": reference, "numerical": numerical, "categorical": categorical}
        runs = {}
        for case, current in (("same", same), ("moved", moved)):
            self.step(
                f"{size}, {'unshifted' if case == 'same' else 'shifted'}: Evidently, Shipyard"
            )
            runs[case] = self._both({**common, "current": current})
        sy = [runs[c][0] for c in runs]
        ev = [runs[c][1] for c in runs]
        how_sy = "shipyard.monitoring.drift(ref_df, cur_df), defaults"
        how_ev = "Report([DataDriftPreset()]).run(Dataset.from_pandas(...)), defaults"
        self.rows += [
            Row(
                f"drift.time.{tag}", f"drift, {size}", "s", False,
                [r["seconds"] for r in sy], [r["seconds"] for r in ev],
                how_sy + "; unshifted and shifted current", how_ev + "; same two tables",
            ),
            Row(
                f"drift.memory.{tag}", f"peak memory, {size}", "MiB", False,
                [r["peak_rss_mib"] for r in sy], [r["peak_rss_mib"] for r in ev],
                "peak RSS of the process (data loaded in pandas, then the call)",
                "peak RSS of the process (data loaded in pandas, then the call)",
                extra={
                    "loaded_rss_mib": {
                        "shipyard": [r["loaded_rss_mib"] for r in sy],
                        "evidently": [r["loaded_rss_mib"] for r in ev],
                    }
                },
            ),
            Row(
                f"drift.memory_added.{tag}", f"memory added by the call, {size}", "MiB", False,
                [r["peak_rss_mib"] - r["loaded_rss_mib"] for r in sy],
                [r["peak_rss_mib"] - r["loaded_rss_mib"] for r in ev],
                "peak RSS after the call minus the peak with the data loaded",
                "peak RSS after the call minus the peak with the data loaded",
            ),
        ]  # fmt: skip
        found = {
            tool: sorted(set(run["drifted"]) & moved_names)
            for tool, run in (("shipyard", runs["moved"][0]), ("evidently", runs["moved"][1]))
        }
        wrong = {
            tool: sorted(set(run["drifted"]) - moved_names)
            for tool, run in (("shipyard", runs["moved"][0]), ("evidently", runs["moved"][1]))
        }
        calm = {"shipyard": runs["same"][0]["drifted"], "evidently": runs["same"][1]["drifted"]}
        self.quality += [
            Quality(
                f"detect.{tag}", f"shifted columns found, {size}", len(moved_names),
                len(found["shipyard"]), len(found["evidently"]), "all",
            ),
            Quality(
                f"false.{tag}", f"false alarms, {size}, nothing shifted", columns,
                len(calm["shipyard"]), len(calm["evidently"]), "none (distances at this size)",
            ),
            Quality(
                f"false_beside.{tag}", f"false alarms beside the shifted, {size}",
                columns - len(moved_names), len(wrong["shipyard"]), len(wrong["evidently"]),
                "none",
            ),
        ]  # fmt: skip
        for tool in ("shipyard", "evidently"):
            missed = sorted(moved_names - set(found[tool]))
            if missed:
                self.notes.append(f"{size}: {tool} missed {', '.join(missed)}")
            if calm[tool] or wrong[tool]:
                self.notes.append(
                    f"{size}: {tool} flagged unshifted {', '.join([*calm[tool], *wrong[tool]])}"
                )
        if rows >= 1_000_000 and columns == 20:
            self.streamed(common, same, runs["same"][1], size, tag)

    def streamed(
        self, common: dict[str, Any], same: str, evidently: dict[str, Any], size: str, tag: str
    ) -> None:
        """Shipyard reading the Parquet files itself, in batches, against Evidently on pandas."""
        self.step(f"{size}: Shipyard from the Parquet files, streamed")
        sy = _driver("shipyard", {**common, "current": same, "input": "parquet"})
        how = "drift(ref_path, cur_path): read in record batches (reading included)"
        self.rows += [
            Row(
                f"drift.parquet_time.{tag}", f"drift from Parquet files, {size}", "s", False,
                [sy["seconds"]], [evidently["seconds"]],
                how, "as above (pandas DataFrames loaded beforehand, reading not included)",
            ),
            Row(
                f"drift.parquet_memory.{tag}", f"peak memory from Parquet files, {size}", "MiB",
                False, [sy["peak_rss_mib"]], [evidently["peak_rss_mib"]],
                how, "as above, with both DataFrames in memory",
            ),
        ]  # fmt: skip

    def windows(self) -> None:
        """Small windows: both tools use tests, so false alarms can be held to 5%."""
        s = self.sizes
        numerical, categorical = column_names(s.window_columns)
        calm = {"shipyard": 0, "evidently": 0}
        by_kind: dict[str, dict[str, int]] = {}
        for seed in range(s.window_seeds):
            self.step(
                f"small windows {seed + 1}/{s.window_seeds}: {s.window_rows} rows vs "
                f"{s.window_rows}, {s.window_columns} columns, nothing shifted"
            )
            reference = self._write(
                make_table(s.window_rows, s.window_columns, 100 + seed), f"win-ref-{seed}"
            )
            current = self._write(
                make_table(s.window_rows, s.window_columns, 200 + seed), f"win-cur-{seed}"
            )
            args = {"reference": reference, "current": current}
            sy, ev = self._both({**args, "numerical": numerical, "categorical": categorical})
            for tool, run in (("shipyard", sy), ("evidently", ev)):
                calm[tool] += len(run["drifted"])
                for name in run["drifted"]:
                    kind = name.rsplit("_", 1)[0]
                    by_kind.setdefault(kind, {"shipyard": 0, "evidently": 0})[tool] += 1
        trials = s.window_columns * s.window_seeds
        self.quality.append(
            Quality(
                f"false.window{s.window_rows}",
                f"false alarms, {s.window_rows} vs {s.window_rows} rows",
                trials, calm["shipyard"], calm["evidently"],
                "5% (the tests' level); a 99.9% binomial range of "
                f"{_binomial_range(trials)}",
            )
        )  # fmt: skip
        self.notes.append(f"small-window false alarms by column kind: {json.dumps(by_kind)}")
        self.step(f"small windows: all {s.window_columns} columns shifted")
        reference = self._write(make_table(s.window_rows, s.window_columns, 300), "win-ref-m")
        moved = self._write(
            make_table(s.window_rows, s.window_columns, 301, set(range(s.window_columns))),
            "win-cur-m",
        )
        args = {"reference": reference, "current": moved}
        sy, ev = self._both({**args, "numerical": numerical, "categorical": categorical})
        self.quality.append(
            Quality(
                f"detect.window{s.window_rows}",
                f"shifted columns found, {s.window_rows} vs {s.window_rows} rows",
                s.window_columns, len(sy["drifted"]), len(ev["drifted"]), "as many as possible",
            )
        )  # fmt: skip

    def run(self) -> None:
        for rows, columns in self.sizes.tables:
            self.tables(rows, columns)
        self.windows()


def _binomial_range(trials: int, p: float = 0.05) -> str:
    from scipy import stats

    low, high = (int(stats.binom.ppf(q, trials, p)) for q in (0.0005, 0.9995))
    return f"{low}-{high} of {trials}"


def print_quality(console: Console, quality: list[Quality]) -> None:
    table = Table(title="Detection and false alarms (columns flagged)", title_justify="left")
    for name in ("case", "columns", "Shipyard", "Evidently", "expected"):
        table.add_column(name, justify="left" if name in ("case", "expected") else "right")
    for q in quality:
        table.add_row(
            q.label,
            str(q.trials),
            f"{q.shipyard} ({q.shipyard / q.trials:.0%})",
            f"{q.evidently} ({q.evidently / q.trials:.0%})",
            q.expected,
        )
    console.print(table)


def write_results(path: Path, meta: dict[str, Any], bench: DriftBench) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    results = [
        {key.replace("mlflow", "evidently", 1): value for key, value in row.to_json().items()}
        for row in bench.rows
    ]
    document = {
        "meta": meta,
        "results": results,
        "quality": [q.to_json() for q in bench.quality],
        "notes": bench.notes,
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def run_suite(
    console: Console,
    *,
    quick: bool,
    output: Path,
    command: str,
    machine: dict[str, Any],
    requirement: str = "evidently",
    keep: bool = False,
) -> None:
    import datetime as dt
    import shutil

    sizes = DRIFT_QUICK if quick else DRIFT_FULL
    evidently_version = ensure_evidently(console, requirement)
    work = WORK / f"drift-{dt.datetime.now():%Y%m%d-%H%M%S}"
    work.mkdir(parents=True)
    console.rule(f"Shipyard vs Evidently {evidently_version}: drift detection")
    bench = DriftBench(sizes, work, console)
    load_before = os.getloadavg()
    started = time.perf_counter()
    try:
        bench.run()
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    meta: dict[str, Any] = {
        **machine,
        "command": command,
        "quick": quick,
        "sizes": asdict(sizes),
        "versions": bench.versions,
        "elapsed_s": round(elapsed, 1),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "timing": "one process per tool and table: the Parquet files are read into pandas "
        "(not timed), then the comparison is timed (imports done before); memory is the "
        "process's peak RSS (ru_maxrss). The speed and memory figures are medians of the "
        "unshifted and the shifted run.",
        "shifted": "columns in blocks 0, 5, ... of ten (one of each kind): normal +0.5 sd, "
        "lognormal mu +0.25, uniform moved by 10% of its range, exponential scale x1.4, "
        "Poisson 3 -> 3.6, categories with 25% of the rows moved to one level (or the "
        "shares changed), yes/no 30% -> 45%",
    }
    title = (
        f"Shipyard {bench.versions.get('shipyard', '?')} vs Evidently {evidently_version}, "
        f"defaults ({os.cpu_count()} cores, {elapsed / 60:.1f} min)"
    )
    print_table(console, bench.rows, title, other="Evidently")
    print_quality(console, bench.quality)
    key = "drift.time.1000000x20"
    main = next((r for r in bench.rows if r.id == key), None)
    if main is not None:
        verdict = "met" if main.ratio >= TARGET_SPEEDUP else "NOT met"
        console.print(
            f"Target: {TARGET_SPEEDUP:.0f}x faster at 1M x 20: {main.ratio:.1f}x, {verdict}"
        )
    for note in bench.notes:
        console.print(f"[yellow]note:[/] {note}")
    write_results(output, meta, bench)
    console.print(f"Results written to {output}")


__all__ = [
    "DRIFT_FULL",
    "DRIFT_QUICK",
    "DriftBench",
    "DriftSizes",
    "ensure_evidently",
    "make_table",
    "run_suite",
]
