"""Debian's Chromium driven by Playwright: no browser download, nothing from the network."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = os.environ.get("SHIPYARD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Read at import, before the suite's fixtures clear SHIPYARD_* variables.
SCREENSHOTS = Path(os.environ.get("SHIPYARD_UI_SCREENSHOTS", "/tmp/shipyard-ui-screenshots"))


def chromium_path() -> str | None:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


def launch(playwright: Playwright) -> Browser:
    executable = chromium_path()
    if executable is None:
        raise RuntimeError("no chromium: run `make services` (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
