"""``shipyard server``: serve a local store over HTTP (REST API, /metrics, /docs)."""

from __future__ import annotations

import os
from typing import Any

import click

__all__ = ["command"]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


@click.command("server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="Port."
)
@click.option(
    "--store",
    "store_uri",
    metavar="URL",
    help="A folder, sqlite:/// or postgresql:// URL. Default: as SHIPYARD_URI, else ./.shipyard",
)
@click.option(
    "--artifacts",
    "artifacts_uri",
    metavar="URL",
    help="Where blobs live: a folder or any fsspec URL (s3://bucket/prefix).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes.",
)
@click.option("--log-level", default="info", show_default=True, type=click.Choice(LOG_LEVELS))
@click.option(
    "--access-log/--no-access-log", default=True, show_default=True, help="Log each request."
)
@click.option("--monitors", is_flag=True, help="Also run due monitors (shipyard monitor add).")
def command(
    host: str,
    port: int,
    store_uri: str | None,
    artifacts_uri: str | None,
    workers: int,
    log_level: str,
    access_log: bool,
    monitors: bool,
) -> None:
    """Serve the store over HTTP: the REST API under /api/v1, docs at /docs, /metrics.

    Binds 127.0.0.1 unless told otherwise: pass --host 0.0.0.0 to serve a team.
    """
    import uvicorn

    from shipyard.errors import InvalidInputError
    from shipyard.server.app import create_app
    from shipyard.server.settings import ServerSettings

    if monitors and workers > 1:
        raise InvalidInputError("--monitors needs one worker: run `shipyard monitor run` beside")
    settings = ServerSettings.resolve(store_uri, artifacts_uri)
    # Opened here once: a bad URL fails before binding, and the database is
    # migrated before several workers could race to do it.
    store, blob_store = settings.open_stores()
    click.echo(
        f"Shipyard server on http://{host}:{port}  "
        f"store: {_safe_url(settings.store_uri)}  artifacts: {settings.artifacts_uri}",
        err=True,
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": access_log,
        "timeout_graceful_shutdown": 10,
    }
    if workers == 1:
        app = create_app(
            store,
            blob_store,
            max_json_bytes=settings.max_json_bytes,
            max_upload_bytes=settings.max_upload_bytes,
            owns_stores=True,
        )
        if monitors:  # the scheduler thread, and its gauges on /metrics
            from shipyard.monitoring.runner import attach_to_app

            attach_to_app(app, store, blob_store)
        uvicorn.run(app, **options)
        return
    store.close()
    blob_store.close()
    os.environ.update(settings.to_env())
    uvicorn.run("shipyard.server.app:app_from_env", factory=True, workers=workers, **options)
