"""The CLI tests use the tracking tests' store folder and run clean-up."""

from __future__ import annotations

from tests.tracking.conftest import _no_leftover_runs, store_uri

__all__ = ["_no_leftover_runs", "store_uri"]
