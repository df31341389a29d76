"""A join whose left side SQLite must take as the outer loop.

SQLite's planner is free to reorder an inner join. Once ``ANALYZE`` has stored
statistics, it prefers to drive a metric-ordered search from ``runs`` (the
experiment index) and sort every run, instead of walking the ``(key, value)``
index in order and stopping after one page: 100k runs turn 30 ms into 1.5 s.
``CROSS JOIN`` is SQLite's documented way to fix the loop order; other
databases get a plain inner join and plan it themselves.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause


class DrivingJoin(sa.Join):
    """``left JOIN right ON ...`` where ``left`` drives the loop on SQLite."""

    inherit_cache = True


@compiles(DrivingJoin, "sqlite")
def _cross_join(join: DrivingJoin, compiler: SQLCompiler, **kw: Any) -> str:
    from_kw = {**kw, "asfrom": True}
    left = join.left._compiler_dispatch(compiler, **from_kw)
    right = join.right._compiler_dispatch(compiler, **from_kw)
    onclause = join.onclause._compiler_dispatch(compiler, **kw)  # type: ignore[union-attr]
    return f"{left} CROSS JOIN {right} ON {onclause}"


def driving_join(left: FromClause, right: FromClause, onclause: ColumnElement[bool]) -> DrivingJoin:
    return DrivingJoin(left, right, onclause)
