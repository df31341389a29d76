"""The answer to "which model was best?": a leaderboard and the best run's record.

Everything printed here is read back from the store through the public API,
so it shows what anyone on the team would find later, not what the training
process happened to remember.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

import shipyard as sy
from shipyard.demo import lineage
from shipyard.demo.data import TEST_DATASET, TRAIN_DATASET
from shipyard.demo.train import MODEL_PATH
from shipyard.errors import NotFoundError

TAG_PREFIX = "shipyard."
LEADERBOARD_FILTER = "metrics.test_accuracy >= 0"  # trials only: sweep parents have no score
LEADERBOARD_ORDER = [
    "metrics.test_accuracy DESC",
    "metrics.test_f1_macro DESC",
    "metrics.fit_time_s ASC",
]
KEY_PACKAGES = ("scikit-learn", "numpy", "scipy", "skops", "shipyard")
REQUIREMENTS_PATH = "environment/requirements.txt"


def leaderboard(experiment: str, limit: int) -> Any:
    """The trials of ``experiment``, best test accuracy first (a pandas DataFrame)."""
    return sy.search_runs(
        filter=LEADERBOARD_FILTER,
        order_by=LEADERBOARD_ORDER,
        experiments=[experiment],
        limit=limit,
    )


def print_leaderboard(console: Console, experiment: str, frame: Any, shown: int) -> None:
    table = Table(
        title=f"Leaderboard: experiment {experiment!r}, best test accuracy first",
        title_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("model")
    table.add_column("settings")
    table.add_column("test acc", justify="right")
    table.add_column("test F1", justify="right")
    table.add_column("CV acc", justify="right")
    table.add_column("fit (s)", justify="right")
    table.add_column("data")
    table.add_column("run id")
    client = sy.Client()
    tested_on: set[str] = set()
    for rank, record in enumerate(frame.head(shown).to_dict("records"), start=1):
        style = "bold green" if rank == 1 else None
        inputs = lineage.run_inputs(client, str(record["run_id"]))
        tested_on.add(lineage.versions_of(inputs, TEST_DATASET))
        table.add_row(
            str(rank),
            str(record.get("params.model", "")),
            _settings(record),
            _number(record.get("metrics.test_accuracy"), 4),
            _number(record.get("metrics.test_f1_macro"), 4),
            _cv(record.get("metrics.cv_accuracy_mean"), record.get("metrics.cv_accuracy_std")),
            _number(record.get("metrics.fit_time_s"), 2),
            lineage.versions_of(inputs, TRAIN_DATASET),
            str(record["run_id"])[:8],
            style=style,
        )
    console.print(table)
    console.print(
        f"[dim]data = the training set version each run recorded; "
        f"tested on {', '.join(sorted(tested_on))}[/]"
    )
    if len(frame) > shown:
        console.print(f"[dim]... and {len(frame) - shown} more trials[/]")


def _settings(record: dict[str, Any]) -> str:
    """The model's hyper-parameters (params ``model.<name>``) as ``name=value`` pairs."""
    prefix = "params.model."
    return " ".join(
        f"{key[len(prefix) :]}={value}"
        for key, value in record.items()
        if key.startswith(prefix) and isinstance(value, str)
    )


def _number(value: object, digits: int) -> str:
    if not isinstance(value, float | int) or math.isnan(value):
        return "-"
    return f"{value:.{digits}f}"


def _cv(mean: object, std: object) -> str:
    if not isinstance(mean, float) or math.isnan(mean):
        return "-"
    if isinstance(std, float) and not math.isnan(std):
        return f"{mean:.4f} ± {std:.4f}"
    return f"{mean:.4f}"


def code_version(tags: dict[str, str]) -> str:
    """The commit a run was made from, or why there is none."""
    commit = tags.get(TAG_PREFIX + "git.commit")
    if commit is None:
        return "not a git repository"
    text = commit
    branch = tags.get(TAG_PREFIX + "git.branch")
    if branch:
        text += f" on {branch}"
    if tags.get(TAG_PREFIX + "git.dirty") == "true":
        text += " (uncommitted changes, saved as code/uncommitted.diff)"
    return text


def key_packages(run: sy.Run) -> dict[str, str]:
    """Versions of the packages that matter for this model, from the run's environment."""
    try:
        requirements = run.read_text(REQUIREMENTS_PATH)
    except NotFoundError:
        return {}
    found: dict[str, str] = {}
    for line in requirements.splitlines():
        name, _, version = line.partition("==")
        name = name.strip().lower().replace("_", "-")
        if name in KEY_PACKAGES:
            found[name] = version.strip()
    return {name: found[name] for name in KEY_PACKAGES if name in found}


def print_best_run(console: Console, run_id: str) -> sy.Run:
    """The best run as the store holds it: params, metrics, code and environment."""
    run = sy.get_run(run_id)
    tags = run.tags
    metrics = run.metrics
    model = run.params.get("model", "?")

    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("run", f"{run.name}  ({run.id})")
    summary.add_row("model", model)
    summary.add_row("test accuracy", _number(metrics.get("test_accuracy"), 4))
    summary.add_row("started", run.start_time.strftime("%Y-%m-%d %H:%M:%S UTC"))
    summary.add_row("code version", code_version(tags))
    entry = tags.get(TAG_PREFIX + "source.command")
    if entry:
        summary.add_row("command", entry)
    client = sy.Client()
    inputs = lineage.run_inputs(client, run.id)
    summary.add_row(
        "data",
        f"trained on {lineage.versions_of(inputs, TRAIN_DATASET)}, tested on "
        f"{lineage.versions_of(inputs, TEST_DATASET)} (from {run.params.get('data.name', '?')})",
    )

    params = Table(title="params", title_justify="left", show_header=False)
    params.add_column(style="cyan")
    params.add_column()
    for key, value in sorted(run.params.items()):
        params.add_row(key, value)

    scores = Table(title="metrics (latest value)", title_justify="left", show_header=False)
    scores.add_column(style="cyan")
    scores.add_column(justify="right")
    for key, number in sorted(metrics.items()):
        scores.add_row(key, _number(number, 4))

    environment = Table(title="environment", title_justify="left", show_header=False)
    environment.add_column(style="cyan")
    environment.add_column()
    environment.add_row("python", tags.get(TAG_PREFIX + "python.version", "?"))
    for key in ("os", "host", "cpu_count"):
        if TAG_PREFIX + key in tags:
            environment.add_row(key, tags[TAG_PREFIX + key])
    for name, version in key_packages(run).items():
        environment.add_row(name, version)

    files = Table(title="artifacts", title_justify="left", show_header=False)
    files.add_column(style="cyan")
    files.add_column(justify="right")
    for entry_ in run.artifacts:
        files.add_row(entry_.path, f"{entry_.size:,} B")

    console.print(
        Panel(
            Group(
                summary, lineage.lineage_table(client, run.id), params, scores, environment, files
            ),
            title="[bold]Which model was best?[/]",
            border_style="green",
        )
    )
    console.print(f"See it again any time:  [bold]shipyard runs show {run.id[:12]}[/]")
    console.print(
        f"Get the model:          [bold]shipyard artifacts get {run.id[:12]} {MODEL_PATH}[/]"
    )
    for found in inputs:
        role = f"Get its {lineage.ROLES.get(found.dataset, 'input')} data:"
        console.print(
            f"{role:<24}[bold]shipyard data get {lineage.label(found)} {found.dataset}[/]"
        )
    return run
