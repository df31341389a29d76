"""``shipyard monitor report|add|ls|rm|run|reports|show``: drift and quality of served models.

``report`` exits with code 3 when it finds drift or a quality drop, so that a
script can act on it (0: all well, 1: a mistake such as an unknown model).
"""

from __future__ import annotations

import logging
import signal
from typing import TYPE_CHECKING, Any

import click

from .monitor_output import monitor_json, print_report, report_json, run_line, thresholds_text
from .output import client, format_time, json_option, print_json, print_table, short_id

if TYPE_CHECKING:
    from shipyard.monitoring.monitors import MonitorRun

__all__ = ["PROBLEM_EXIT_CODE", "group"]

PROBLEM_EXIT_CODE = 3


@click.group("monitor")
def group() -> None:
    """Check served models for drift and quality drops, on demand or on a schedule."""


def _window_options(func: Any) -> Any:
    options = [
        click.option("--window", help="Trailing window: 24h, 30m, 7d (default 24h)."),
        click.option("--last", type=click.IntRange(min=1), help="The newest N predictions."),
        click.option("--since", help="From: ms since the epoch, ISO 8601, or a duration ago (2h)."),
        click.option("--until", help="Until: ms since the epoch, ISO 8601, or a duration ago."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _common_options(func: Any) -> Any:
    options = [
        click.option(
            "--reference",
            metavar="URI",
            help="Dataset version to compare with. Default: the model's training dataset.",
        ),
        click.option("--target", help="The reference's target column (left out of the features)."),
        click.option("--name", help="The name the server logs under (default: the model's)."),
        click.option(
            "--thresholds",
            multiple=True,
            metavar="K=V,...",
            help="drift_share=0.3,accuracy_drop=0.05,min_labels=30,prediction_drift=true",
        ),
        click.option("--trust", is_flag=True, help="Let a pickled model run on the reference."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


# -- report ------------------------------------------------------------------------------
@group.command("report")
@click.argument("model_uri")
@_window_options
@_common_options
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write the HTML page.")
@click.option("--no-store", is_flag=True, help="Compute and print only; store nothing.")
@json_option
@click.pass_context
def report_command(
    ctx: click.Context,
    model_uri: str,
    window: str | None,
    last: int | None,
    since: str | None,
    until: str | None,
    reference: str | None,
    target: str | None,
    name: str | None,
    thresholds: tuple[str, ...],
    trust: bool,
    html_path: str | None,
    no_store: bool,
    as_json: bool,
) -> None:
    """Compare MODEL_URI's logged predictions with its reference; store the report.

    Exit code 3 when drift or a quality drop is found.
    """
    from shipyard.monitoring.report_service import report
    from shipyard.monitoring.thresholds import parse_thresholds

    result = report(
        model_uri,
        reference,
        window,
        last=last,
        since=since,
        until=until,
        target=target,
        name=name,
        thresholds=parse_thresholds(thresholds),
        trust=trust,
        store=not no_store,
        client=client(),
    )
    if html_path is not None:
        result.to_html(html_path)
    if as_json:
        print_json({"id": result.id, **result.summary(), "report": result.to_dict()})
    else:
        print_report(result)
    if not result.ok:
        ctx.exit(PROBLEM_EXIT_CODE)


# -- monitors ----------------------------------------------------------------------------
@group.command("add")
@click.argument("model_uri")
@click.option("--every", default="1h", show_default=True, help="How often: 30m, 1h, 1d.")
@click.option("--webhook", metavar="URL", help="POST a JSON alert here when the state changes.")
@click.option("--window", help="What each run reads (default: the period).")
@click.option("--last", type=click.IntRange(min=1), help="Each run reads the newest N predictions.")
@_common_options
@json_option
def add_command(
    model_uri: str,
    every: str,
    webhook: str | None,
    window: str | None,
    last: int | None,
    reference: str | None,
    target: str | None,
    name: str | None,
    thresholds: tuple[str, ...],
    trust: bool,
    as_json: bool,
) -> None:
    """Check MODEL_URI every period; alert on changes of state (run by `monitor run`)."""
    from shipyard.monitoring.monitors import add_monitor
    from shipyard.monitoring.thresholds import parse_thresholds
    from shipyard.monitoring.windows import format_duration

    monitor = add_monitor(
        model_uri,
        every,
        webhook=webhook,
        thresholds=parse_thresholds(thresholds),
        reference=reference,
        window=window,
        last=last,
        target=target,
        name=name,
        trust=trust,
        client=client(),
    )
    if as_json:
        print_json(monitor_json(monitor))
        return
    click.echo(
        f"Monitor {short_id(monitor.id)} checks {monitor.model_uri} every "
        f"{format_duration(monitor.every_seconds * 1000)} "
        f"(thresholds: {thresholds_text(monitor.thresholds)}); "
        "`shipyard monitor run` or `shipyard server --monitors` runs it."
    )


@group.command("ls")
@click.argument("model_uri", required=False)
@json_option
def list_command(model_uri: str | None, as_json: bool) -> None:
    """List monitors (of MODEL_URI, when given)."""
    from shipyard.monitoring.windows import format_duration

    monitors = client().store.list_monitors(model_uri)
    if as_json:
        print_json([monitor_json(m) for m in monitors])
        return
    rows = [
        [
            short_id(m.id),
            m.model_uri,
            format_duration(m.every_seconds * 1000),
            m.state if m.enabled else f"{m.state} (disabled)",
            format_time(m.last_run_at),
            format_time(m.next_run_at),
            thresholds_text(m.thresholds),
            m.webhook or "-",
        ]
        for m in monitors
    ]
    print_table(
        ["id", "model", "every", "state", "last run", "next run", "thresholds", "webhook"],
        rows,
        empty="No monitors.",
    )


@group.command("rm")
@click.argument("monitor_id")
def remove_command(monitor_id: str) -> None:
    """Delete a monitor (by id or its first characters); its reports stay."""
    from shipyard.monitoring.monitors import remove_monitor

    removed = remove_monitor(monitor_id, client=client())
    click.echo(f"Deleted monitor {short_id(removed.id)} of {removed.model_uri}.")


@group.command("run")
@click.option("--once", is_flag=True, help="Run the due monitors once and exit.")
@click.option(
    "--poll",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Longest wait in seconds between looks for due monitors.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve the monitor gauges for Prometheus on this port (/metrics).",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
def run_command(once: bool, poll: float, metrics_port: int | None, metrics_host: str) -> None:
    """Run due monitors: store their reports and alert on changes of state.

    Runs until stopped (Ctrl-C, SIGTERM); --once makes one pass.
    """
    from shipyard.monitoring.runner import MonitorRunner

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    c = client()

    def echo(run: MonitorRun) -> None:
        click.echo(run_line(run), err=True)

    runner = MonitorRunner(c, poll_seconds=poll, on_run=echo)
    if once:
        runs = runner.run_once()
        if not runs:
            click.echo("No monitor is due.", err=True)
        return
    if metrics_port is not None:
        from shipyard.monitoring.metrics import serve_metrics

        serve_metrics(c.store, metrics_port, metrics_host)
        click.echo(f"Monitor gauges on http://{metrics_host}:{metrics_port}/metrics", err=True)
    signal.signal(signal.SIGTERM, lambda *_: runner.stop())
    click.echo(f"Running monitors (looking every {poll:g} s at most); Ctrl-C stops.", err=True)
    try:
        runner.run_forever()
    except KeyboardInterrupt:
        runner.stop()
    click.echo(f"Stopped after {runner.runs} monitor run(s).", err=True)


# -- reports -----------------------------------------------------------------------------
@group.command("reports")
@click.argument("model_name", required=False)
@click.option("--monitor", "monitor_id", help="Only this monitor's reports (id or prefix).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@json_option
def reports_command(
    model_name: str | None, monitor_id: str | None, limit: int, as_json: bool
) -> None:
    """List stored reports, newest first."""
    from shipyard.monitoring.monitors import find_monitor

    c = client()
    if monitor_id is not None:
        monitor_id = find_monitor(monitor_id, client=c).id
    page = c.store.list_reports(model_name, monitor_id, max_results=limit)
    if as_json:
        print_json([report_json(r) for r in page.items])
        return
    rows = [
        [
            short_id(r.id),
            format_time(r.created_at),
            f"{r.model_name}/{r.model_version}" if r.model_version else r.model_name,
            str(r.summary.get("status", "-")),
            "-" if r.drift_share is None else f"{r.drift_share:.0%}",
            "-" if r.row_count is None else f"{r.row_count:,}",
            short_id(r.monitor_id) if r.monitor_id else "-",
        ]
        for r in page.items
    ]
    print_table(
        ["id", "created", "model", "status", "drifted", "rows", "monitor"],
        rows,
        empty="No reports.",
    )


@group.command("show")
@click.argument("report_id")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Write the HTML page.")
@json_option
def show_command(report_id: str, html_path: str | None, as_json: bool) -> None:
    """Show a stored report (its full id, as `monitor reports --json` prints)."""
    from shipyard.monitoring.reports import get_report

    c = client()
    result = get_report(report_id, client=c)
    if html_path is not None and result.html_digest is not None:
        with open(html_path, "wb") as out:
            for chunk in c.blob_store.open(result.html_digest):
                out.write(chunk)
    elif html_path is not None:
        result.to_html(html_path)
    if as_json:
        print_json({"id": result.id, **result.summary(), "report": result.to_dict()})
    else:
        print_report(result)
