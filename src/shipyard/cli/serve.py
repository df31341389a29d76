"""``shipyard serve MODEL_URI``: serve one model over V2 and /invocations."""

from __future__ import annotations

import os
from typing import Any

import click

from shipyard.serving.config import (
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_LATENCY_MS,
    DEFAULT_POLL_INTERVAL_S,
)

__all__ = ["command"]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


@click.command("serve")
@click.argument("model_uri")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes; each loads the model and batches on its own.",
)
@click.option(
    "--name", help="Name under /v2/models/. Default: the registered model's name, or 'model'."
)
@click.option("--canary", "canary_uri", metavar="URI", help="A second model to send a share to.")
@click.option(
    "--canary-percent",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 100),
    help="Share of requests the canary answers.",
)
@click.option(
    "--max-batch-size",
    default=DEFAULT_MAX_BATCH_SIZE,
    show_default=True,
    type=click.IntRange(min=1),
    help="Most rows in one model call.",
)
@click.option(
    "--max-latency-ms",
    default=DEFAULT_MAX_LATENCY_MS,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Longest a request waits for others to share its call (never when alone).",
)
@click.option(
    "--poll-interval",
    default=DEFAULT_POLL_INTERVAL_S,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds between checks of where an alias points (0: never).",
)
@click.option(
    "--max-body-bytes",
    default=DEFAULT_MAX_BODY_BYTES,
    show_default=True,
    type=click.IntRange(min=1),
    help="Largest request body accepted.",
)
@click.option(
    "--log-predictions/--no-log-predictions",
    default=True,
    show_default=True,
    help="Record inputs and outputs in the store for monitoring.",
)
@click.option(
    "--log-sample",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of requests whose predictions are logged.",
)
@click.option(
    "--strict-env",
    is_flag=True,
    help="Refuse to start when the model's environment differs by a major version.",
)
@click.option("--trust", is_flag=True, help="Allow models saved as pickles (they run code).")
@click.option("--log-level", default="info", show_default=True, type=click.Choice(LOG_LEVELS))
@click.option(
    "--access-log/--no-access-log", default=False, show_default=True, help="Log each request."
)
def command(
    model_uri: str,
    host: str,
    port: int,
    workers: int,
    name: str | None,
    canary_uri: str | None,
    canary_percent: float,
    max_batch_size: int,
    max_latency_ms: float,
    poll_interval: float,
    max_body_bytes: int,
    log_predictions: bool,
    log_sample: float,
    strict_env: bool,
    trust: bool,
    log_level: str,
    access_log: bool,
) -> None:
    """Serve MODEL_URI: models:/digits@production, models:/digits/3, runs:/<id>/model,
    or a package folder (what `shipyard build` copies into an image).

    Open Inference Protocol (KServe V2) under /v2, MLflow-style POST /invocations,
    /ping, /health, Prometheus /metrics. An alias is followed: when it moves, the
    new version is loaded, checked and swapped in without dropping a request.
    """
    import logging

    import uvicorn

    from shipyard.serving.app import create_serving_app
    from shipyard.serving.config import ServeConfig

    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    config = ServeConfig(
        model_uri=model_uri,
        name=name,
        canary_uri=canary_uri,
        canary_percent=canary_percent,
        max_batch_size=max_batch_size,
        max_latency_ms=max_latency_ms,
        poll_interval=poll_interval,
        max_body_bytes=max_body_bytes,
        log_predictions=log_predictions,
        log_sample=log_sample,
        strict_env=strict_env,
        trust=trust,
    )
    # Built here even with several workers: a bad URI, an untrusted model or a
    # foreign environment fails once, with one line, before anything binds.
    app = create_serving_app(config)
    state = app.state.serving
    versions = ", ".join(f"{s.role} {s.current.label}" for s in state.router.slots)
    click.echo(
        f"Serving {model_uri} as {state.name!r} ({versions}) on http://{host}:{port}", err=True
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": access_log,
        "timeout_graceful_shutdown": 10,
    }
    if workers == 1:
        uvicorn.run(app, **options)
        return
    os.environ.update(config.to_env())
    uvicorn.run("shipyard.serving.app:app_from_env", factory=True, workers=workers, **options)
