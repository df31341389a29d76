"""A live server on seeded data, and a real headless Chromium to look at it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live_server import live_server
from tests.ui.browser import SCREENSHOTS, chromium_path, launch
from tests.ui.seed import Seeded, seed
from tests.ui.seed_models import seed_registry

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The browser's own log line for a document answered 4xx: expected on error pages.
EXPECTED_4XX = "the server responded with a status of 4"


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    seeded = seed(tmp_path_factory.mktemp("ui-store"))
    seed_registry(seeded)
    return seeded


@pytest.fixture(scope="session")
def ui_url(seeded: Seeded) -> Iterator[str]:
    with live_server(seeded.store_uri, seeded.artifacts_uri) as url:
        yield url


@pytest.fixture
def http(ui_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ui_url, timeout=30) as client:
        yield client


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"the browser tests need Chromium in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    if chromium_path() is None:
        _unavailable("no chromium: run `make services` (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


class ConsoleLog:
    """Errors the page logged or threw; ``allow_4xx`` accepts an error page's own status."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allow_4xx = False

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not (self.allow_4xx and EXPECTED_4XX in e)]


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


def _new_page(browser: Any, console: ConsoleLog, **options: Any) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", lambda msg: console.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
    return page


@pytest.fixture
def page(browser: Any, console: ConsoleLog) -> Iterator[Any]:
    """A fresh light-theme page; the test fails on any JavaScript console error."""
    tab = _new_page(browser, console, color_scheme="light")
    try:
        yield tab
    finally:
        tab.context.close()
    assert console.unexpected() == [], "JavaScript console errors"


@pytest.fixture
def new_page(browser: Any, console: ConsoleLog) -> Iterator[Callable[..., Any]]:
    """Pages with other options (dark theme, JavaScript off), closed after the test."""
    pages: list[Any] = []

    def make(**options: Any) -> Any:
        tab = _new_page(browser, console, **options)
        pages.append(tab)
        return tab

    yield make
    for tab in pages:
        tab.context.close()
    assert console.unexpected() == [], "JavaScript console errors"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def shot(screenshots: Path) -> Callable[[Any, str], Path]:
    def take(page: Any, name: str) -> Path:
        path = screenshots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
