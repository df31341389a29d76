"""The seeded tables of the drift benchmark: mixed numerical and categorical columns,
and the same tables with some columns shifted by known amounts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

__all__ = ["KINDS", "column_names", "make_table", "shifted_columns"]

KINDS = (
    "normal", "lognormal", "uniform", "exponential", "poisson",
    "cat3", "cat8", "cat20", "cat50", "yesno",
)  # fmt: skip


def column_names(columns: int) -> tuple[list[str], list[str]]:
    """(numerical, categorical) names: column i is of kind KINDS[i % 10]."""
    names = [f"{KINDS[i % 10]}_{i}" for i in range(columns)]
    numerical = [n for i, n in enumerate(names) if i % 10 < 5]
    return numerical, [n for n in names if n not in numerical]


def _levels(
    rng: np.random.Generator, rows: int, labels: list[str], p: np.ndarray[Any, Any]
) -> pa.Array:
    codes = rng.choice(len(labels), rows, p=p / p.sum())
    return pa.DictionaryArray.from_arrays(codes.astype(np.int32), labels).cast(pa.string())


def _moved(p: np.ndarray[Any, Any], to: int, share: float = 0.25) -> np.ndarray[Any, Any]:
    """``share`` of the rows moved to one level."""
    q = np.asarray(p / p.sum() * (1 - share), dtype=np.float64)
    q[to] += share
    return q


def _column(kind: str, rng: np.random.Generator, rows: int, shifted: bool) -> pa.Array:
    if kind == "normal":
        return pa.array(rng.normal(11.0 if shifted else 10.0, 2.0, rows))
    if kind == "lognormal":
        return pa.array(rng.lognormal(0.25 if shifted else 0.0, 0.5, rows))
    if kind == "uniform":
        return pa.array(rng.uniform(10.0, 110.0, rows) if shifted else rng.uniform(0, 100, rows))
    if kind == "exponential":
        return pa.array(rng.exponential(1.4 if shifted else 1.0, rows))
    if kind == "poisson":
        return pa.array(rng.poisson(3.6 if shifted else 3.0, rows))
    if kind == "cat3":
        p = np.array([0.35, 0.35, 0.3] if shifted else [0.5, 0.3, 0.2])
        return _levels(rng, rows, ["low", "mid", "high"], p)
    if kind == "yesno":
        p = np.array([0.45, 0.55] if shifted else [0.3, 0.7])
        return _levels(rng, rows, ["yes", "no"], p)
    size = int(kind[3:])
    p = np.ones(size) if size == 8 else 1.0 / np.arange(1, size + 1)  # uniform or Zipf
    return _levels(rng, rows, [f"v{k}" for k in range(size)], _moved(p, 0) if shifted else p)


def make_table(rows: int, columns: int, seed: int, shifted: set[int] | None = None) -> pa.Table:
    rng = np.random.default_rng(seed)
    chosen = shifted or set()
    names = [f"{KINDS[i % 10]}_{i}" for i in range(columns)]
    return pa.table(
        {n: _column(KINDS[i % 10], rng, rows, i in chosen) for i, n in enumerate(names)}
    )


def shifted_columns(columns: int) -> set[int]:
    """Blocks 0, 5, 10... of ten columns (one of each kind): 50% of 20 columns, 20% of 100."""
    return {i for i in range(columns) if (i // 10) % 5 == 0}
