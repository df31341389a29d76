"""The web UI's templates (``templates/``) and static files (``static/``).

Python code that renders them lives in :mod:`shipyard.server.ui`; this package
only holds the files, so that they ship inside the wheel.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["STATIC_DIR", "TEMPLATES_DIR"]

_HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = _HERE / "templates"
STATIC_DIR = _HERE / "static"
