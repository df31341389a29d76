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
first can walk the ``(key, value)`` index in order, so a page stops after
``max_results`` matches instead of sorting every run. Pages are keyset pages:
a page token records the segment and the last row's sort values, so the next
page starts right after that row (a range condition the index answers), and
runs created or changed meanwhile never shift a page into duplicates or gaps.
A token carries a fingerprint of its search and is refused by any other one.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from shipyard.entities import LifecycleStage, ViewType
from shipyard.errors import InvalidInputError
from shipyard.store.filter_language import (
    Entity,
    Expr,
    OrderBy,
    parse_filter,
    parse_order_by,
    to_filter_string,
)
from shipyard.store.sql.checks import (
    check_id,
    check_page_size,
    check_view,
    decode_token_payload,
    encode_token,
)
from shipyard.store.sql.driving_join import driving_join
from shipyard.store.sql.search_filter import (
    ATTRIBUTE_COLUMNS,
    KEY_VALUE_TABLES,
    FilterCompiler,
    selective_comparisons,
)
from shipyard.store.sql.tables import experiments, runs
from shipyard.validation import INT64_MAX, MAX_TAG_VALUE_LENGTH, validate_utf8

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


@dataclass(frozen=True)
class _Key:
    """One ORDER BY term; a page token holds the last row's value of each."""

    expr: ColumnElement[Any]
    ascending: bool = True
    nullable: bool = False

    @property
    def kind(self) -> type:
        if isinstance(self.expr.type, sa.Boolean):
            return bool
        if isinstance(self.expr.type, sa.Integer):
            return int
        if isinstance(self.expr.type, sa.Float):
            return float
        return str

    def ordered(self) -> ColumnElement[Any]:
        return self.expr.asc() if self.ascending else self.expr.desc()


@dataclass
class _Segment:
    """One slice of the order: runs with a value for the first key, then the rest."""

    where: list[ColumnElement[bool]] = field(default_factory=list)
    order: list[_Key] = field(default_factory=list)
    join: FromClause | None = None
    onclause: ColumnElement[bool] | None = None
    outer: bool = False
    run_id: ColumnElement[Any] = runs.c.id


def _sortable(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    # PostgreSQL sorts text by the database's locale; "C" sorts by code point, as SQLite.
    if dialect == "postgresql" and isinstance(column.type, _STRING_TYPES):
        return column.collate("C")
    return column


def _first_segments(item: OrderBy | None, dialect: str) -> list[_Segment]:
    if item is None:
        return [_Segment()]
    if item.entity is Entity.ATTRIBUTE:
        column = ATTRIBUTE_COLUMNS[item.key]
        ordered = _Key(_sortable(column, dialect), item.ascending)
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
        order=[_Key(_sortable(alias.c.value, dialect), item.ascending)],
        join=alias,
        onclause=onclause,
        run_id=alias.c.run_id,
    )
    # The rest: NaN metrics (joined, value NULL) before runs without the key.
    rest = _Segment(
        where=[alias.c.value.is_(None)],
        order=[_Key(alias.c.run_id.is_(None))],
        join=alias,
        onclause=onclause,
        outer=True,
    )
    return [with_value, rest]


def _later_order(
    items: Sequence[OrderBy], dialect: str
) -> tuple[list[tuple[FromClause, ColumnElement[bool]]], list[_Key]]:
    """Outer joins and ORDER BY terms for the order-by items after the first."""
    joins: list[tuple[FromClause, ColumnElement[bool]]] = []
    order: list[_Key] = []
    for index, item in enumerate(items):
        if item.entity is Entity.ATTRIBUTE:
            column = ATTRIBUTE_COLUMNS[item.key]
            if column.nullable:
                order.append(_Key(column.is_(None)))
            order.append(_Key(_sortable(column, dialect), item.ascending, bool(column.nullable)))
            continue
        alias = KEY_VALUE_TABLES[item.entity].alias(f"order_{index}")
        joins.append((alias, sa.and_(alias.c.run_id == runs.c.id, alias.c.key == item.key)))
        # Missing-key (and NaN) flags before the value, so NULL values never reach the
        # value term and the backends' different NULL placement does not matter.
        order.append(_Key(alias.c.run_id.is_(None)))
        if item.entity is Entity.METRIC:
            order.append(_Key(alias.c.value.is_(None)))
        order.append(_Key(_sortable(alias.c.value, dialect), item.ascending, nullable=True))
    return joins, order


def _after(keys: Sequence[_Key], values: Sequence[Any]) -> list[ColumnElement[bool]]:
    """Conditions selecting the rows that sort after the row holding ``values``.

    The lexicographic comparison is an OR of prefixes; the first key's plain range
    bound is repeated on its own so that the database starts its index walk there.
    A NULL value (only ever behind an equal missing-key flag) ties with NULL.
    """
    strictly: list[ColumnElement[bool]] = []
    equal: list[ColumnElement[bool]] = []
    for key, value in zip(keys, values, strict=True):
        if value is None:
            equal.append(key.expr.is_(None))
            continue
        if key.kind is bool:  # flags sort ascending: false, then true
            if not value:
                strictly.append(sa.and_(*equal, key.expr))
            equal.append(key.expr if value else sa.not_(key.expr))
            continue
        later = key.expr > value if key.ascending else key.expr < value
        strictly.append(sa.and_(*equal, later))
        equal.append(key.expr == value)
    conditions: list[ColumnElement[bool]] = [sa.or_(*strictly) if strictly else sa.false()]
    first, value = keys[0], values[0]
    if value is not None and first.kind is not bool:
        conditions.append(first.expr >= value if first.ascending else first.expr <= value)
    return conditions


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


def _valid_value(key: _Key, value: object) -> bool:
    if value is None:
        return key.nullable
    kind = key.kind
    if kind is bool or kind is str:
        if type(value) is not kind:
            return False
        if kind is str:
            assert isinstance(value, str)
            return len(value) <= MAX_TAG_VALUE_LENGTH and _is_utf8(value)
        return True
    if kind is int:
        return type(value) is int and -INT64_MAX <= value <= INT64_MAX
    return type(value) is float and not math.isnan(value)


def _is_utf8(text: str) -> bool:
    try:
        validate_utf8(text, "page token")
    except InvalidInputError:
        return False
    return True


def _decode_token(
    token: str, fingerprint: str, segments: Sequence[_Segment], later: Sequence[_Key]
) -> tuple[int, list[Any]]:
    """The segment and the last row's sort values in a token, every field checked."""
    payload = decode_token_payload(token)
    segment, values, owner = payload.get("s"), payload.get("k"), payload.get("f")
    if not isinstance(owner, str) or not isinstance(values, list):
        raise InvalidInputError("invalid page token")
    if type(segment) is not int or not 0 <= segment < len(segments):
        raise InvalidInputError("invalid page token")
    if owner != fingerprint:
        raise InvalidInputError(
            "page token belongs to another search (different experiments, filter, order or view)"
        )
    keys = _keys(segments[segment], later)
    if len(values) != len(keys):
        raise InvalidInputError("invalid page token")
    if not all(_valid_value(key, value) for key, value in zip(keys, values, strict=True)):
        raise InvalidInputError("invalid page token")
    return segment, values


# -- the search --------------------------------------------------------------------


def _keys(segment: _Segment, later: Sequence[_Key]) -> list[_Key]:
    # Ties are broken by start time (newest first), then run id: every row's keys differ.
    return [*segment.order, *later, _Key(runs.c.start_time, False), _Key(runs.c.id)]


def _check_experiment_ids(experiment_ids: object) -> list[str]:
    if isinstance(experiment_ids, str) or not isinstance(experiment_ids, Sequence):
        raise InvalidInputError("experiment_ids must be a list of experiment id strings")
    return [check_id(experiment_id, "experiment id") for experiment_id in experiment_ids]


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
    max_results = check_page_size(max_results)
    experiment_ids = _check_experiment_ids(experiment_ids)
    view = check_view(view)
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

    segment, cursor = 0, None
    if page_token:
        segment, cursor = _decode_token(page_token, fingerprint, segments, later_order)

    # Fetch one row past the page to learn whether another page exists.
    wanted = max_results + 1
    found: list[tuple[str, int, list[Any]]] = []  # (run id, segment, sort values)
    while segment < len(segments) and len(found) < wanted:
        part = segments[segment]
        keys = _keys(part, later_order)
        source: FromClause = runs
        if part.join is not None and part.onclause is not None and not part.outer:
            # The ordered (key, value) index must drive the loop to stop after a page.
            source = driving_join(part.join, runs, part.onclause)
        elif part.join is not None:
            source = source.join(part.join, part.onclause, isouter=part.outer)
        for target, onclause in later_joins:
            source = source.outerjoin(target, onclause)
        where = [*scope, *part.where]
        if cursor is not None:
            where.extend(_after(keys, cursor))
        if expr is not None:
            where.append(FilterCompiler(dialect, part.run_id, selective).condition(expr))
        limit = wanted - len(found)
        query = (
            sa.select(runs.c.id, *(key.expr.label(f"k{i}") for i, key in enumerate(keys)))
            .select_from(source)
            .where(*where)
            .order_by(*(key.ordered() for key in keys))
            .limit(limit)
        )
        rows = conn.execute(query).all()
        found.extend((row[0], segment, _plain(keys, row[1:])) for row in rows)
        if len(rows) < limit:
            segment, cursor = segment + 1, None

    if len(found) > max_results:
        _, last_segment, last_values = found[max_results - 1]
        token = encode_token({"f": fingerprint, "s": last_segment, "k": last_values})
        return [run_id for run_id, _, _ in found[:max_results]], token
    return [run_id for run_id, _, _ in found], None


def _plain(keys: Sequence[_Key], values: Sequence[Any]) -> list[Any]:
    """Row values as JSON-ready Python values of each key's kind."""
    return [
        None if value is None else key.kind(value) for key, value in zip(keys, values, strict=True)
    ]
