"""Run search: the filter language translated to indexed SQL, one page at a time.

Semantics (the same on SQLite and PostgreSQL):

- ``metrics.k op v`` holds when the run's latest ``k`` satisfies it. NaN (stored
  as value NULL with ``is_nan`` true) satisfies no numeric comparison, ``!=``
  and ``NOT IN`` included. ``metrics.k IS NULL`` means the run has no metric
  ``k``; a NaN metric IS NOT NULL.
- A run that lacks a key matches no comparison on it, ``!=``, ``NOT IN`` and
  ``NOT LIKE`` included; ``NOT (params.k = 'x')`` does match it. Nullable
  attributes (``end_time``, ``user``, ``parent_run_id``) follow the same rule.
- ``LIKE`` is case-sensitive, ``ILIKE`` ignores case (ASCII only on SQLite);
  ``%`` and ``_`` are wildcards and ``\\`` escapes the next character.
- Order: runs missing an order-by key come last in both directions, and a NaN
  metric after every number. Strings sort by code point. Ties are broken by
  start time (newest first), then run id, so pages are deterministic. The
  default order is start time, newest first.

The first order-by key splits the runs into two segments: those with a value
for it, then the rest (NaN before missing). Each is a separate query, and the
first can walk the ``(key, value)`` index in order, so the first page of a
search stops after ``max_results`` matches instead of sorting every run. A
page token records the segment and the offset in it, with a fingerprint of
the search it belongs to, and is refused by any other search.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from shipyard.entities import LifecycleStage, ViewType
from shipyard.errors import InvalidInputError
from shipyard.store.base import MAX_PAGE_SIZE
from shipyard.store.filter_language import (
    Entity,
    Expr,
    OrderBy,
    parse_filter,
    parse_order_by,
    to_filter_string,
)
from shipyard.store.sql.search_filter import (
    ATTRIBUTE_COLUMNS,
    KEY_VALUE_TABLES,
    FilterCompiler,
    selective_comparisons,
)
from shipyard.store.sql.tables import experiments, runs

__all__ = ["search_run_ids"]

_STRING_TYPES = (sa.String, sa.Text)


def _scope(experiment_ids: Sequence[str], view: ViewType) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if experiment_ids:
        where.append(runs.c.experiment_id.in_(sorted(set(experiment_ids))))
    active, deleted = LifecycleStage.ACTIVE.value, LifecycleStage.DELETED.value
    if view is ViewType.ACTIVE:
        active_experiments = sa.select(experiments.c.id).where(
            experiments.c.lifecycle_stage == active
        )
        where.append(runs.c.lifecycle_stage == active)
        where.append(runs.c.experiment_id.in_(active_experiments))
    elif view is ViewType.DELETED:
        deleted_experiments = sa.select(experiments.c.id).where(
            experiments.c.lifecycle_stage == deleted
        )
        where.append(
            sa.or_(
                runs.c.lifecycle_stage == deleted,
                runs.c.experiment_id.in_(deleted_experiments),
            )
        )
    return where


# -- order -----------------------------------------------------------------------


@dataclass
class _Segment:
    """One slice of the order: runs with a value for the first key, then the rest."""

    where: list[ColumnElement[bool]] = field(default_factory=list)
    order: list[ColumnElement[Any]] = field(default_factory=list)
    join: FromClause | None = None
    onclause: ColumnElement[bool] | None = None
    outer: bool = False
    run_id: ColumnElement[Any] = runs.c.id


def _sortable(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    # PostgreSQL sorts text by the database's locale; "C" sorts by code point, as SQLite.
    if dialect == "postgresql" and isinstance(column.type, _STRING_TYPES):
        return column.collate("C")
    return column


def _directed(column: ColumnElement[Any], ascending: bool) -> ColumnElement[Any]:
    return column.asc() if ascending else column.desc()


def _first_segments(item: OrderBy | None, dialect: str) -> list[_Segment]:
    if item is None:
        return [_Segment()]
    if item.entity is Entity.ATTRIBUTE:
        column = ATTRIBUTE_COLUMNS[item.key]
        ordered = _directed(_sortable(column, dialect), item.ascending)
        if not column.nullable:
            return [_Segment(order=[ordered])]
        return [
            _Segment(where=[column.is_not(None)], order=[ordered]),
            _Segment(where=[column.is_(None)]),
        ]
    alias = KEY_VALUE_TABLES[item.entity].alias("first_order")
    onclause = sa.and_(alias.c.run_id == runs.c.id, alias.c.key == item.key)
    # No NULLS FIRST/LAST: NULLs (NaN) are filtered out, and a plain ASC/DESC lets
    # the database walk the (key, value) index forwards or backwards and stop early.
    with_value = _Segment(
        where=[alias.c.value.is_not(None)],
        order=[_directed(_sortable(alias.c.value, dialect), item.ascending)],
        join=alias,
        onclause=onclause,
        run_id=alias.c.run_id,
    )
    # The rest: NaN metrics (joined, value NULL) before runs without the key.
    rest = _Segment(
        where=[alias.c.value.is_(None)],
        order=[alias.c.run_id.is_(None)],
        join=alias,
        onclause=onclause,
        outer=True,
    )
    return [with_value, rest]


def _later_order(
    items: Sequence[OrderBy], dialect: str
) -> tuple[list[tuple[FromClause, ColumnElement[bool]]], list[ColumnElement[Any]]]:
    """Outer joins and ORDER BY terms for the order-by items after the first."""
    joins: list[tuple[FromClause, ColumnElement[bool]]] = []
    order: list[ColumnElement[Any]] = []
    for index, item in enumerate(items):
        if item.entity is Entity.ATTRIBUTE:
            column = ATTRIBUTE_COLUMNS[item.key]
            if column.nullable:
                order.append(column.is_(None))
            order.append(_directed(_sortable(column, dialect), item.ascending))
            continue
        alias = KEY_VALUE_TABLES[item.entity].alias(f"order_{index}")
        joins.append((alias, sa.and_(alias.c.run_id == runs.c.id, alias.c.key == item.key)))
        # Missing-key (and NaN) flags before the value, so NULL values never reach the
        # value term and the backends' different NULL placement does not matter.
        order.append(alias.c.run_id.is_(None))
        if item.entity is Entity.METRIC:
            order.append(alias.c.value.is_(None))
        order.append(_directed(_sortable(alias.c.value, dialect), item.ascending))
    return joins, order


# -- page tokens -------------------------------------------------------------------


def _fingerprint(
    experiment_ids: Sequence[str], expr: Expr | None, order: Sequence[OrderBy], view: ViewType
) -> str:
    described = [
        sorted(set(experiment_ids)),
        to_filter_string(expr) if expr is not None else "",
        [[item.entity.value, item.key, item.ascending] for item in order],
        view.value,
    ]
    digest = hashlib.sha256(json.dumps(described).encode()).hexdigest()
    return digest[:16]


def _encode_token(segment: int, offset: int, fingerprint: str) -> str:
    raw = json.dumps({"s": segment, "o": offset, "f": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str, fingerprint: str, segments: int) -> tuple[int, int]:
    try:
        if not isinstance(token, str):
            raise ValueError("not a string")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        segment, offset, owner = data["s"], data["o"], data["f"]
        valid = all(type(n) is int and n >= 0 for n in (segment, offset))
        if not valid or not isinstance(owner, str) or segment >= segments:
            raise ValueError("bad fields")
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InvalidInputError("invalid page token") from None
    if owner != fingerprint:
        raise InvalidInputError(
            "page token belongs to another search (different experiments, filter, order or view)"
        )
    return segment, offset


# -- the search --------------------------------------------------------------------


def _validate(experiment_ids: Sequence[str], view: ViewType | str, max_results: int) -> ViewType:
    if isinstance(max_results, bool) or not isinstance(max_results, int):
        raise InvalidInputError(f"max_results must be an integer, got {max_results!r}")
    if not 1 <= max_results <= MAX_PAGE_SIZE:
        raise InvalidInputError(
            f"max_results must be between 1 and {MAX_PAGE_SIZE}, got {max_results}"
        )
    if isinstance(experiment_ids, str) or not all(
        isinstance(experiment_id, str) for experiment_id in experiment_ids
    ):
        raise InvalidInputError("experiment_ids must be a list of experiment id strings")
    try:
        return ViewType(view)
    except ValueError:
        raise InvalidInputError(
            f"view must be one of {', '.join(v.value for v in ViewType)}, got {view!r}"
        ) from None


def search_run_ids(
    conn: sa.Connection,
    experiment_ids: Sequence[str],
    filter_string: str | None,
    order_by: Sequence[str] | None,
    view: ViewType,
    max_results: int,
    page_token: str | None,
) -> tuple[list[str], str | None]:
    """Ids of one page of matching runs, in order, and the token of the next page."""
    view = _validate(experiment_ids, view, max_results)
    if isinstance(order_by, str):
        raise InvalidInputError("order_by must be a list of strings")
    expr = parse_filter(filter_string)
    order = [parse_order_by(item) for item in order_by or ()]
    dialect = conn.dialect.name
    fingerprint = _fingerprint(experiment_ids, expr, order, view)

    segments = _first_segments(order[0] if order else None, dialect)
    later_joins, later_order = _later_order(order[1:], dialect)
    scope = _scope(experiment_ids, view)
    selective = selective_comparisons(conn, expr)
    tiebreak = [runs.c.start_time.desc(), _sortable(runs.c.id, dialect).asc()]

    segment, offset = (0, 0)
    if page_token:
        segment, offset = _decode_token(page_token, fingerprint, len(segments))

    # Fetch one row past the page to learn whether another page exists.
    wanted = max_results + 1
    found: list[tuple[str, int, int]] = []  # (run id, segment, offset in the segment)
    while segment < len(segments) and len(found) < wanted:
        part = segments[segment]
        source: FromClause = runs
        if part.join is not None:
            source = source.join(part.join, part.onclause, isouter=part.outer)
        for target, onclause in later_joins:
            source = source.outerjoin(target, onclause)
        where = [*scope, *part.where]
        if expr is not None:
            where.append(FilterCompiler(dialect, part.run_id, selective).condition(expr))
        limit = wanted - len(found)
        query = (
            sa.select(runs.c.id)
            .select_from(source)
            .where(*where)
            .order_by(*part.order, *later_order, *tiebreak)
            .limit(limit)
            .offset(offset)
        )
        rows = conn.execute(query).scalars().all()
        found.extend((run_id, segment, offset + i) for i, run_id in enumerate(rows))
        if len(rows) < limit:
            segment, offset = segment + 1, 0

    if len(found) > max_results:
        _, next_segment, next_offset = found[max_results]
        return [run_id for run_id, _, _ in found[:max_results]], _encode_token(
            next_segment, next_offset, fingerprint
        )
    return [run_id for run_id, _, _ in found], None
