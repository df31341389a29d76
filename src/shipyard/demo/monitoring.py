"""The released model in service and watched: served, sent two phases of traffic
(the held-out digits, then the same digits drifted), told the true labels, and
checked by one monitoring report per phase.

Each report (``sy.monitoring.report``) reads the phase's window of the
prediction logs, compares the logged inputs with the model's training data
(the reference: its training dataset version; the logged ``input_0 ..
input_63`` are mapped by position to ``pixel_0 .. pixel_63``), scores the
labelled rows against the promotion's evaluation, and is stored: ``shipyard
monitor ls`` and the web UI's monitoring page list it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import numpy as np
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table

import shipyard as sy
from shipyard.demo import serving
from shipyard.demo.data import TARGET
from shipyard.demo.release import ALIAS
from shipyard.demo.serving import LiveServer, LoggedRows, Phase

if TYPE_CHECKING:
    from shipyard.entities import DatasetVersion
    from shipyard.monitoring.reports import MonitorReport
    from shipyard.tracking.client import Client

__all__ = ["InService", "PhaseReport", "check_phase", "in_service", "report_table"]

TOP_COLUMNS = 4  # drifted columns named per report


@dataclass(frozen=True, slots=True)
class PhaseReport:
    phase: Phase
    report: MonitorReport


@dataclass(frozen=True, slots=True)
class InService:
    server: LiveServer
    traffic: list[tuple[Phase, LoggedRows]]
    reports: list[PhaseReport]
    seconds: float


def in_service(console: Console, model_name: str, test: DatasetVersion) -> InService:
    """Serve ``model_name@production``, send it the held-out digits and then the same
    digits drifted, send their true labels, and report on each phase; prints it all."""
    started = time.perf_counter()
    model_uri = f"models:/{model_name}@{ALIAS}"
    frame = sy.data.load_table(test)
    x = frame[[c for c in frame.columns if c != TARGET]].to_numpy(dtype=np.float64)
    y = frame[TARGET].to_numpy(dtype=np.int64)
    with sy.Client() as client:
        with (
            serving.serve(model_uri, client) as server,
            httpx.Client(base_url=server.url, timeout=30) as http,
        ):
            phases = []
            for title, rows in (("held-out digits", x), ("drifted digits", serving.drifted(x))):
                phase = serving.send_traffic(http, server.name, title, rows, y)
                serving.send_feedback(http, server.name, phase)
                phases.append(phase)
        # The server has stopped: its logger stored what it held on the way out.
        traffic = [(p, serving.live_rows(client, server.name, server.version, p)) for p in phases]
        reports = [check_phase(model_uri, phase, client) for phase in phases]
    result = InService(server, traffic, reports, time.perf_counter() - started)
    print_in_service(console, model_uri, result)
    return result


def check_phase(model_uri: str, phase: Phase, client: Client) -> PhaseReport:
    """The stored monitoring report of ``model_uri``'s predictions during ``phase``."""
    from shipyard.monitoring.windows import Window

    window = Window(since_ms=phase.start_ms, until_ms=phase.end_ms)
    return PhaseReport(phase, sy.monitoring.report(model_uri, window=window, client=client))


def _top_drifted(report: MonitorReport) -> str:
    drifted = [c for c in report.drift.columns if c.drifted]
    # Most confident first: the smallest p-value, then the largest statistic or distance.
    drifted.sort(
        key=lambda c: (
            c.p_value if c.p_value is not None else 1.0,
            -(c.statistic or 0.0),
            -(c.distance or 0.0),
        )
    )
    names = [c.column for c in drifted[:TOP_COLUMNS]]
    more = len(drifted) - len(names)
    return ", ".join(names) + (f" (+{more})" if more > 0 else "") if names else "-"


def _quality(report: MonitorReport) -> str:
    for comparison in report.quality.comparisons:
        if comparison.metric == "accuracy":
            text = f"{comparison.current:.4f} (at promotion {comparison.baseline:.4f})"
            return f"[bold red]{text}: dropped[/]" if comparison.dropped else text
    accuracy = report.quality.metrics.get("accuracy")
    return "-" if accuracy is None else f"{accuracy:.4f}"


def report_table(checked: list[PhaseReport]) -> Table:
    """One column per phase: the drift verdict, the columns that moved, quality, the status."""
    first = checked[0].report
    table = Table(
        title=f"monitoring reports of {first.model_uri} against {first.reference}",
        title_justify="left",
    )
    table.add_column("", style="cyan")
    for entry in checked:
        table.add_column(entry.phase.title)

    def row(label: str, values: list[str]) -> None:
        table.add_row(label, *values)

    reports = [entry.report for entry in checked]
    row("predictions", [f"{r.rows} ({r.quality.labelled_rows} labelled)" for r in reports])
    row(
        "drifted columns",
        [
            f"{len(r.drift.drifted_columns)} of {len(r.drift.tested_columns)} "
            f"({r.drift.drifted_share:.0%}; the data drifts at {r.drift.drift_share:.0%})"
            for r in reports
        ],
    )
    row("most drifted", [_top_drifted(r) for r in reports])
    row(
        "dataset drift",
        ["[bold red]YES[/]" if r.dataset_drift else "[green]no[/]" for r in reports],
    )
    row(
        "predictions drift",
        ["[bold red]YES[/]" if r.prediction_drift else "[green]no[/]" for r in reports],
    )
    row("accuracy", [_quality(r) for r in reports])
    row(
        "status",
        [f"[bold red]{r.status}[/]" if not r.ok else f"[green]{r.status}[/]" for r in reports],
    )
    row("report id", [r.id or "-" for r in reports])
    return table


def print_in_service(console: Console, model_uri: str, result: InService) -> None:
    server = result.server
    served = f"{server.name}/{server.version}" if server.version is not None else server.name
    lines: list[RenderableType] = [
        f"Served {model_uri} ({served}) at {server.url}, as `shipyard serve {model_uri}` "
        "would; every prediction logged, every label sent back to "
        f"POST /v2/models/{server.name}/feedback.",
        serving.traffic_table(server, result.traffic),
        report_table(result.reports),
    ]
    console.print(
        Panel(
            Group(*lines),
            title=f"[bold]In service: served, watched ({result.seconds:.1f} s)[/]",
            border_style="cyan",
        )
    )
    console.print(
        f"Check it yourself:      [bold]shipyard monitor report {model_uri} --window 1h[/]"
    )
    drifted = result.reports[-1].report.id
    page = f"/monitoring/reports/{drifted}" if drifted else f"/monitoring?model={server.name}"
    console.print(
        f"See the reports:        [bold]shipyard server[/], then http://127.0.0.1:5000{page}"
    )
