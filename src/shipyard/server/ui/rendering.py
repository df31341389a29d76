"""Jinja2 rendering for the web UI: the environment, display filters and error pages.

Pages answer HTML even when something goes wrong: :class:`PageRoute` turns a
:class:`ShipyardError` or a bad query parameter into a friendly page with the
error's 4xx status, where the API routes answer JSON.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from shipyard._version import __version__
from shipyard.errors import ShipyardError
from shipyard.server.errors import describe_validation_errors
from shipyard.ui import TEMPLATES_DIR

__all__ = [
    "NAV",
    "PageRoute",
    "error_page",
    "format_duration",
    "format_number",
    "format_size",
    "format_time",
    "query_string",
    "render",
]

logger = logging.getLogger("shipyard.server")

# (path, label) of the top navigation; a feature adds its page here when it lands.
NAV: list[tuple[str, str]] = [
    ("/", "Experiments"),
    ("/runs", "Runs"),
    ("/datasets", "Datasets"),
    ("/models", "Models"),
    ("/monitoring", "Monitoring"),
]

QueryValue = str | int | None | Sequence[str]


def query_string(params: Mapping[str, QueryValue]) -> str:
    """``?a=1&b=x&b=y`` from a mapping; None and empty sequences are left out."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, str | int):
            pairs.append((name, str(value)))
        else:
            pairs.extend((name, item) for item in value)
    return "?" + urlencode(pairs) if pairs else ""


def format_time(ms: int | None) -> str:
    if ms is None:
        return "—"
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def iso_time(ms: int | None) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="seconds")


def format_duration(ms: int | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms // 1000
    if seconds < 60:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def format_number(value: float | None) -> str:
    """Metric values: 5 significant digits, exact integers kept whole."""
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value.is_integer() and abs(value) < 1e12:
        return str(int(value))
    return f"{value:.5g}"


def format_size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if amount < 1024 or unit == "TB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        time=format_time,
        isotime=iso_time,
        duration=format_duration,
        num=format_number,
        size=format_size,
    )
    env.globals.update(nav=NAV, shipyard_version=__version__, qs=query_string)
    return env


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """The page ``template`` rendered with ``context`` (plus ``request`` and ``path``)."""
    html = (
        _environment()
        .get_template(template)
        .render(request=request, path=request.url.path, **context)
    )
    return HTMLResponse(html, status_code=status_code)


def error_page(
    request: Request, status_code: int, message: str, title: str | None = None
) -> Response:
    titles = {400: "That request does not work", 404: "Not found", 409: "Conflict"}
    heading = title or titles.get(status_code, "Something went wrong")
    return render(
        request, "error.html", status_code, title=heading, message=message, status=status_code
    )


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class PageRoute(APIRoute):
    """A route whose errors render as an HTML page instead of the API's JSON."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except ShipyardError as exc:
                if exc.http_status >= 500:
                    logger.error("%s %s failed: %s", request.method, request.url.path, exc.message)
                return error_page(request, exc.http_status, exc.message)
            except RequestValidationError as exc:
                return error_page(request, 400, describe_validation_errors(exc.errors()))

        return page
