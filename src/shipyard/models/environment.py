"""The Python packages a model was saved with, and how the running environment differs.

A manifest records ``{"python": "3.11.7", "packages": {"scikit-learn": "1.7.2", ...}}``.
:func:`compare` lists every difference; the ones that can break loading or
change predictions are *breaking*:

- another Python minor version (``3.11`` -> ``3.12``);
- another major version of a package (``1.x`` -> ``2.x``), where for ``0.x``
  versions the minor counts as major (``0.12`` -> ``0.13``), as semantic
  versioning has it;
- a recorded package that is not installed.

:func:`check` warns (:class:`ModelEnvironmentWarning`) about breaking
differences, or raises :class:`~shipyard.errors.EnvironmentMismatchError`
with ``strict=True``. The server runs the same check at startup.
"""

from __future__ import annotations

import importlib.metadata
import platform
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shipyard.errors import EnvironmentMismatchError

__all__ = [
    "BASE_PACKAGES",
    "EnvironmentDifference",
    "ModelEnvironmentWarning",
    "canonical_name",
    "check",
    "compare",
    "current_environment",
    "environment_for",
]

# What every model's inputs and outputs go through, whatever its flavor.
BASE_PACKAGES = ("numpy", "pandas", "scipy")
PYTHON = "python"
_VERSION_RE = re.compile(r"(\d+)(?:\.(\d+))?")
_SEPARATORS_RE = re.compile(r"[-_.]+")

Severity = Literal["major", "minor", "patch", "missing"]


class ModelEnvironmentWarning(UserWarning):
    """A model was saved with packages whose major versions differ from the ones installed."""


@dataclass(frozen=True, slots=True)
class EnvironmentDifference:
    """One package (or ``python``) whose version differs; ``current`` None when missing."""

    package: str
    recorded: str
    current: str | None
    severity: Severity

    @property
    def breaking(self) -> bool:
        return self.severity in ("major", "missing")

    def __str__(self) -> str:
        now = self.current if self.current is not None else "not installed"
        return f"{self.package} {self.recorded} (saved with) vs {now} (here)"


def _installed(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def environment_for(packages: Iterable[str]) -> dict[str, Any]:
    """``{"python": ..., "packages": {...}}`` pinning each installed one of ``packages``
    (plus :data:`BASE_PACKAGES`); packages not installed are left out."""
    pinned: dict[str, str] = {}
    for package in sorted({*BASE_PACKAGES, *packages}):
        version = _installed(package)
        if version is not None:
            pinned[package] = version
    return {"python": platform.python_version(), "packages": pinned}


def current_environment(packages: Iterable[str] | None = None) -> dict[str, Any]:
    """This interpreter's Python version and the installed versions of ``packages``
    (default: every installed distribution), in the manifest's shape."""
    if packages is not None:
        return environment_for(packages)
    pinned = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            pinned[canonical_name(name)] = dist.version
    return {"python": platform.python_version(), "packages": dict(sorted(pinned.items()))}


def canonical_name(package: str) -> str:
    """A distribution name as PyPI compares them: ``Scikit_Learn`` -> ``scikit-learn``."""
    return _SEPARATORS_RE.sub("-", package).lower()


def _parts(version: str) -> tuple[int, int] | None:
    match = _VERSION_RE.match(version.strip())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def _severity(recorded: str, current: str, python: bool) -> Severity | None:
    if recorded == current:
        return None
    old, new = _parts(recorded), _parts(current)
    if old is None or new is None:
        return "major"  # versions we cannot read: assume the worst
    if old[0] != new[0]:
        return "major"
    if old[1] != new[1]:
        # Python's minor versions change the bytecode and C API; 0.x minors are majors.
        return "major" if python or old[0] == 0 else "minor"
    return "patch"


def compare(
    recorded: Mapping[str, Any], current: Mapping[str, Any] | None = None
) -> list[EnvironmentDifference]:
    """Differences between a recorded environment and ``current`` (default: this one,
    for the recorded packages); Python first, then packages by name."""
    packages: Mapping[str, str] = recorded.get("packages") or {}
    if current is None:
        current = current_environment(packages)
    now = {canonical_name(k): v for k, v in (current.get("packages") or {}).items()}
    found: list[EnvironmentDifference] = []
    python_then, python_now = recorded.get("python"), current.get("python")
    if python_then and python_now:
        severity = _severity(str(python_then), str(python_now), python=True)
        if severity is not None:
            found.append(EnvironmentDifference(PYTHON, str(python_then), str(python_now), severity))
    for package in sorted(packages):
        then = str(packages[package])
        installed = now.get(canonical_name(package))
        if installed is None:
            found.append(EnvironmentDifference(package, then, None, "missing"))
            continue
        severity = _severity(then, str(installed), python=False)
        if severity is not None:
            found.append(EnvironmentDifference(package, then, str(installed), severity))
    return found


def check(
    recorded: Mapping[str, Any],
    *,
    strict: bool = False,
    what: str = "the model",
    current: Mapping[str, Any] | None = None,
) -> list[EnvironmentDifference]:
    """Compare, then warn about breaking differences (raise with ``strict``); returns all."""
    differences = compare(recorded, current)
    breaking = [d for d in differences if d.breaking]
    if breaking:
        listed = "; ".join(str(d) for d in breaking)
        if strict:
            raise EnvironmentMismatchError(
                f"{what} was saved in another environment: {listed}. Install the recorded "
                "versions, or load without strict=True to only warn"
            )
        warnings.warn(
            f"{what} was saved in another environment: {listed}; predictions may differ "
            "or loading may fail",
            ModelEnvironmentWarning,
            stacklevel=3,
        )
    return differences
