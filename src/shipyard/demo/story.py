"""The demo's story: sweep several model families on the digits, tracking every trial,
register the best and release it to production through the evaluation gate, then
serve it, send it traffic (held-out digits, then drifted ones) and watch it.

One parent run per family holds the sweep; each setting is a child run.
Nothing but the public API (``import shipyard as sy``) is used, so the demo
doubles as an example of it.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import shipyard as sy
from shipyard.config import resolve_settings
from shipyard.demo import data as digits
from shipyard.demo import report
from shipyard.demo.models import families
from shipyard.demo.monitoring import in_service
from shipyard.demo.release import release
from shipyard.demo.train import TrialResult, run_trial, trial_name
from shipyard.entities import DatasetVersion
from shipyard.errors import ConflictError

DEFAULT_EXPERIMENT = "digits"
MAX_LEADERBOARD = 1000


@dataclass(frozen=True, slots=True)
class DemoConfig:
    experiment: str = DEFAULT_EXPERIMENT
    quick: bool = False
    seed: int = 0

    @property
    def cv_folds(self) -> int:
        return 3 if self.quick else 5

    @property
    def max_samples(self) -> int | None:
        return 600 if self.quick else None


def train_all(config: DemoConfig, console: Console) -> tuple[list[TrialResult], DatasetVersion]:
    """Run the whole sweep; returns one result per trial in the order they ran, and the
    held-out dataset version the trials were tested on."""
    loaded = digits.load(seed=config.seed, max_samples=config.max_samples)
    console.print(
        f"[bold]Data[/]: {digits.DATASET_NAME}, {loaded.n_samples} images of "
        f"{loaded.n_features} pixels, {len(loaded.y_test)} held out for testing "
        f"(digest {loaded.digest[:12]})"
    )
    train_set, test_set = digits.version_splits(loaded)
    for split in (train_set, test_set):
        state = "new version" if split.created else "unchanged: reused"
        console.print(
            f"  versioned as [bold]{split.label}[/] ({split.version.uri}, {state}, "
            f"{split.version.total_size:,} B)"
        )
    # The models see what the store gives back: the versions the runs record.
    data = digits.from_store(loaded, train_set.version, test_set.version)
    sy.set_experiment(config.experiment)
    plan = families(config.quick)
    total = sum(len(family.settings) for family in plan)
    results: list[TrialResult] = []
    with (
        tempfile.TemporaryDirectory(prefix="shipyard-demo-") as scratch,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("training", total=total)
        for family in plan:
            with sy.start_run(name=f"sweep {family.kind}", tags={"demo.role": "sweep"}) as parent:
                parent.log_params({"model": family.kind, "sweep.size": str(len(family.settings))})
                best: TrialResult | None = None
                for settings in family.settings:
                    progress.update(task, description=trial_name(family, settings))
                    with sy.start_run(
                        name=trial_name(family, settings),
                        tags={"demo.role": "trial"},
                        parent=parent,
                    ) as run:
                        run.use_dataset(train_set.version)
                        run.use_dataset(test_set.version)
                        result = run_trial(
                            run, family, settings, data, config.cv_folds, Path(scratch)
                        )
                    results.append(result)
                    if best is None or result.test_accuracy > best.test_accuracy:
                        best = result
                    progress.advance(task)
                    console.print(
                        f"  [green]✓[/] {result.name}: test accuracy "
                        f"{result.test_accuracy:.4f}, fitted in {result.fit_time_s:.2f} s"
                    )
                if best is not None:
                    parent.log_metric("best_test_accuracy", best.test_accuracy)
                    parent.set_tag("demo.best_trial", best.name)
    return results, test_set.version


def run_demo(config: DemoConfig, console: Console, shown: int = 10) -> str:
    """Train the sweep, answer "which model was best?", release the best model to
    production through the evaluation gate, then serve and monitor it; returns the best
    run's id."""
    console.rule("[bold]Shipyard demo: which of our digit classifiers was best?")
    started = time.perf_counter()
    results, test_version = train_all(config, console)
    console.print(
        f"Trained and tracked {len(results)} models in {time.perf_counter() - started:.0f} s "
        f"(store: {resolve_settings().uri})\n"
    )
    frame = report.leaderboard(config.experiment, limit=MAX_LEADERBOARD)
    if frame.empty:
        raise ConflictError(f"experiment {config.experiment!r} holds no scored run")
    report.print_leaderboard(console, config.experiment, frame, shown)
    console.print()
    best_id = str(frame.iloc[0]["run_id"])
    report.print_best_run(console, best_id)
    console.print()
    release(console, config.experiment, frame, test_version)
    console.print()
    in_service(console, config.experiment, test_version)
    return best_id
