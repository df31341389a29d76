"""A dataset version's stored profile, shaped for display (histograms as bar heights).

The profile is free-form JSON written when the version was added
(``{"files": {path: {"row_count": n, "columns": ...}}}``); this reads it
defensively, so an unexpected shape shows less rather than failing the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ColumnProfile", "FileProfile", "profile_files"]

_STATS = ("min", "max", "mean", "std", "p25", "p50", "p75", "median", "unique", "distinct")
_MISSING_KEYS = ("missing_share", "missing", "null_share", "null_fraction", "missing_fraction")
MAX_COLUMNS = 200
MAX_TOP = 8


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    name: str
    type: str
    missing: float | None
    stats: list[tuple[str, Any]] = field(default_factory=list)
    bars: list[float] = field(default_factory=list)  # heights 0..1
    bar_labels: list[str] = field(default_factory=list)
    top: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FileProfile:
    path: str
    row_count: int | None
    columns: list[ColumnProfile]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _histogram(raw: Any) -> tuple[list[float], list[str]]:
    counts: Any = raw
    edges: Any = None
    if isinstance(raw, Mapping):
        counts = raw.get("counts")
        edges = raw.get("edges", raw.get("bins"))
    if not isinstance(counts, list):
        return [], []
    values = [_number(c) or 0.0 for c in counts]
    top = max(values, default=0.0)
    if top <= 0:
        return [], []
    labels = [f"{int(c)}" for c in values]
    if isinstance(edges, list) and len(edges) == len(values) + 1:
        labels = [
            f"{edges[i]:.4g} to {edges[i + 1]:.4g}: {int(values[i])}" for i in range(len(values))
        ]
    return [value / top for value in values], labels


def _top(raw: Any) -> list[tuple[str, int]]:
    pairs: list[tuple[str, int]] = []
    if isinstance(raw, Mapping):
        pairs = [(str(k), int(v)) for k, v in raw.items() if _number(v) is not None]
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, Mapping) and "value" in item:
                pairs.append((str(item["value"]), int(_number(item.get("count")) or 0)))
            elif isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((str(item[0]), int(_number(item[1]) or 0)))
    return pairs[:MAX_TOP]


def _column(name: str, raw: Mapping[str, Any]) -> ColumnProfile:
    missing = next((_number(raw[k]) for k in _MISSING_KEYS if k in raw), None)
    quantiles = raw.get("quantiles")
    stats: list[tuple[str, Any]] = [(k, raw[k]) for k in _STATS if k in raw]
    if isinstance(quantiles, Mapping):
        stats += [(str(k), v) for k, v in quantiles.items()]
    bars, labels = _histogram(raw.get("histogram"))
    return ColumnProfile(
        name=name,
        type=str(raw.get("type", raw.get("dtype", ""))),
        missing=missing,
        stats=stats,
        bars=bars,
        bar_labels=labels,
        top=_top(raw.get("top", raw.get("top_values", raw.get("categories")))),
    )


def _columns(raw: Any) -> list[ColumnProfile]:
    found: list[ColumnProfile] = []
    if isinstance(raw, Mapping):
        found = [_column(str(n), c) for n, c in raw.items() if isinstance(c, Mapping)]
    elif isinstance(raw, list):
        found = [_column(str(c.get("name", "?")), c) for c in raw if isinstance(c, Mapping)]
    return found[:MAX_COLUMNS]


def profile_files(profile: Mapping[str, Any] | None) -> list[FileProfile]:
    files = profile.get("files") if isinstance(profile, Mapping) else None
    if not isinstance(files, Mapping):
        return []
    result = []
    for path, table in sorted(files.items()):
        if not isinstance(table, Mapping):
            continue
        rows = table.get("row_count", table.get("rows"))
        count = int(rows) if isinstance(rows, int) and not isinstance(rows, bool) else None
        result.append(FileProfile(str(path), count, _columns(table.get("columns"))))
    return result
