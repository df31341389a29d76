"""A filter AST translated to a SQL condition on ``runs`` (see ``search`` for the semantics)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from shipyard.store.filter_language import And, Comparison, Entity, Expr, Op, Or
from shipyard.store.sql.tables import latest_metrics, params, runs, tags

__all__ = ["ATTRIBUTE_COLUMNS", "KEY_VALUE_TABLES", "FilterCompiler", "selective_comparisons"]

ATTRIBUTE_COLUMNS: dict[str, sa.Column[Any]] = {
    "run_id": runs.c.id,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "user": runs.c.user,
    "experiment_id": runs.c.experiment_id,
    "parent_run_id": runs.c.parent_run_id,
    "lifecycle_stage": runs.c.lifecycle_stage,
}
KEY_VALUE_TABLES = {Entity.METRIC: latest_metrics, Entity.PARAM: params, Entity.TAG: tags}

_OPERATORS: dict[Op, Callable[[Any, Any], Any]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}
# Operators that the (key, value) indexes answer with one range scan.
_INDEXED_OPS = {Op.EQ, Op.LT, Op.LE, Op.GT, Op.GE, Op.IN}
# A comparison matching at most this many rows is cheaper as an IN (subquery) list.
SELECTIVE_ROWS = 5000
# The page size the list-or-walk choice is weighed for.
_PAGE_ROWS = 100


def _like_parts(pattern: str) -> list[tuple[bool, str]]:
    """(is_wildcard, char) pairs: ``%``/``_`` wildcards, ``\\x`` a literal x."""
    parts: list[tuple[bool, str]] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append((False, next(chars, "\\")))
        else:
            parts.append((char in "%_", char))
    return parts


def _like_pattern(parts: list[tuple[bool, str]]) -> str:
    return "".join(c if wild or c not in "%_\\" else "\\" + c for wild, c in parts)


def _glob_pattern(parts: list[tuple[bool, str]]) -> str:
    wildcards = {"%": "*", "_": "?"}
    return "".join(wildcards[c] if wild else f"[{c}]" if c in "*?[" else c for wild, c in parts)


def _like(
    column: ColumnElement[Any], pattern: str, dialect: str, case_sensitive: bool
) -> ColumnElement[bool]:
    parts = _like_parts(pattern)
    if dialect == "sqlite":
        if case_sensitive:  # SQLite's LIKE ignores ASCII case; GLOB does not.
            return column.op("GLOB", is_comparison=True)(_glob_pattern(parts))
        return column.like(_like_pattern(parts), escape="\\")
    if case_sensitive:
        return column.like(_like_pattern(parts), escape="\\")
    return column.ilike(_like_pattern(parts), escape="\\")


def _value_condition(
    column: ColumnElement[Any], op: Op, value: Any, dialect: str
) -> ColumnElement[bool]:
    if op in _OPERATORS:
        return cast(ColumnElement[bool], _OPERATORS[op](column, value))
    if op is Op.IN:
        return column.in_(list(value))
    if op is Op.NOT_IN:
        return column.not_in(list(value))
    matched = _like(column, value, dialect, case_sensitive=op in (Op.LIKE, Op.NOT_LIKE))
    return sa.not_(matched) if op in (Op.NOT_LIKE, Op.NOT_ILIKE) else matched


def has_key(table: sa.Table, key: str, run_id: ColumnElement[Any]) -> sa.Exists:
    alias = table.alias()
    return sa.exists().where(alias.c.run_id == run_id, alias.c.key == key)


def _key_value_rows(node: Comparison, dialect: str) -> tuple[sa.FromClause, ColumnElement[bool]]:
    alias = KEY_VALUE_TABLES[node.entity].alias()
    condition = sa.and_(
        alias.c.key == node.key, _value_condition(alias.c.value, node.op, node.value, dialect)
    )
    return alias, condition


def _conjuncts(node: Expr) -> list[Expr]:
    return list(node.terms) if isinstance(node, And) else [node]


def selective_comparisons(conn: sa.Connection, expr: Expr | None) -> frozenset[Comparison]:
    """Top-level AND terms on metrics, params or tags that match few rows.

    SQLite has no statistics to weigh a filter against the order, so a bounded
    count on the term's (key, value) index decides: a rare term becomes an
    ``IN (subquery)`` list built once, a common one a per-run ``EXISTS`` probe.
    PostgreSQL's planner weighs both forms itself.
    """
    if expr is None or conn.dialect.name != "sqlite":
        return frozenset()
    found: set[Comparison] = set()
    total_runs: int | None = None
    for term in _conjuncts(expr):
        if not isinstance(term, Comparison) or term.entity is Entity.ATTRIBUTE:
            continue
        if term.op not in _INDEXED_OPS:
            continue
        alias, condition = _key_value_rows(term, conn.dialect.name)
        bounded = sa.select(sa.literal(1)).select_from(alias).where(condition)
        count = sa.select(sa.func.count()).select_from(bounded.limit(SELECTIVE_ROWS + 1).subquery())
        matches = conn.execute(count).scalar_one()
        if matches > SELECTIVE_ROWS:
            continue
        if total_runs is None:
            total_runs = conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar_one()
        # Building the list costs about `matches` rows; walking the order until a
        # page of ~100 is found costs about 100 * total / matches. The list wins
        # while matches**2 < 100 * total.
        if matches * matches <= _PAGE_ROWS * total_runs:
            found.add(term)
    return frozenset(found)


class FilterCompiler:
    """Builds the condition for one query; ``run_id`` is the column naming the run.

    In a query joined to an order-by key, correlating on that key's ``run_id``
    lets the database test the filter before it looks up the run row.
    """

    def __init__(
        self,
        dialect: str,
        run_id: ColumnElement[Any] = runs.c.id,
        selective: frozenset[Comparison] = frozenset(),
    ) -> None:
        self.dialect = dialect
        self.run_id = run_id
        self.selective = selective

    def condition(self, node: Expr) -> ColumnElement[bool]:
        if isinstance(node, Comparison):
            return self._comparison(node)
        if isinstance(node, And):
            terms = sorted(_conjuncts(node), key=self._cost_rank)
            return sa.and_(*(self.condition(term) for term in terms))
        if isinstance(node, Or):
            return sa.or_(*(self.condition(term) for term in node.terms))
        return sa.not_(self.condition(node.operand))

    def _cost_rank(self, node: Expr) -> int:
        """Cheap, likely selective terms first: SQLite tests AND terms in the order given."""
        if not isinstance(node, Comparison):
            return 5
        if node in self.selective:  # a probe into a small list built once
            return 0
        if node.entity is Entity.ATTRIBUTE:
            return 1
        if node.op in (Op.EQ, Op.IN):
            return 2 if node.entity is not Entity.METRIC else 3
        return 4

    def _comparison(self, node: Comparison) -> ColumnElement[bool]:
        if node.entity is Entity.ATTRIBUTE:
            column = ATTRIBUTE_COLUMNS[node.key]
            if node.op is Op.IS_NULL:
                return column.is_(None)
            if node.op is Op.IS_NOT_NULL:
                return column.is_not(None)
            condition = _value_condition(column, node.op, node.value, self.dialect)
            # A NULL attribute is false, never unknown, so that NOT (...) matches it.
            return sa.and_(column.is_not(None), condition) if column.nullable else condition
        table = KEY_VALUE_TABLES[node.entity]
        if node.op is Op.IS_NULL:
            return ~has_key(table, node.key, self.run_id)
        if node.op is Op.IS_NOT_NULL:
            return has_key(table, node.key, self.run_id)
        alias, condition = _key_value_rows(node, self.dialect)
        if node in self.selective:
            return self.run_id.in_(sa.select(alias.c.run_id).where(condition))
        return sa.exists().where(alias.c.run_id == self.run_id, condition)
