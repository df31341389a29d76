"""The typed AST of the run search language, and its canonical text.

``shipyard.store.filter_language`` parses text into these records;
:func:`to_filter_string` renders one back, so that
``parse_filter(to_filter_string(e)) == e``.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "ATTRIBUTES",
    "And",
    "Comparison",
    "Entity",
    "Expr",
    "Not",
    "Op",
    "Or",
    "OrderBy",
    "Scalar",
    "Value",
    "to_filter_string",
]


class Entity(enum.StrEnum):
    METRIC = "metrics"
    PARAM = "params"
    TAG = "tags"
    ATTRIBUTE = "attributes"


class Op(enum.StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    LIKE = "LIKE"
    NOT_LIKE = "NOT LIKE"
    ILIKE = "ILIKE"
    NOT_ILIKE = "NOT ILIKE"
    IN = "IN"
    NOT_IN = "NOT IN"
    IS_NULL = "IS NULL"
    IS_NOT_NULL = "IS NOT NULL"


Scalar: TypeAlias = str | int | float
Value: TypeAlias = Scalar | tuple[Scalar, ...] | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """``entity.key op value``; ``value`` is a tuple for IN and None for IS [NOT] NULL."""

    entity: Entity
    key: str
    op: Op
    value: Value = None


@dataclass(frozen=True, slots=True, init=False)
class And:
    """All of ``terms`` (two or more); ``a AND b AND c`` is one node, not a nested chain."""

    terms: tuple[Expr, ...]

    def __init__(self, *terms: Expr) -> None:
        object.__setattr__(self, "terms", _flatten(And, terms))


@dataclass(frozen=True, slots=True, init=False)
class Or:
    """Any of ``terms`` (two or more), flattened like :class:`And`."""

    terms: tuple[Expr, ...]

    def __init__(self, *terms: Expr) -> None:
        object.__setattr__(self, "terms", _flatten(Or, terms))


def _flatten(kind: type[And] | type[Or], terms: tuple[Expr, ...]) -> tuple[Expr, ...]:
    # Flat n-ary nodes keep a long chain from nesting deeper than Python's recursion limit.
    if len(terms) < 2:
        raise ValueError(f"{kind.__name__} needs two or more terms")
    flat: list[Expr] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, kind) else (term,))
    return tuple(flat)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


Expr: TypeAlias = Comparison | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderBy:
    entity: Entity
    key: str
    ascending: bool = True


# Attribute name -> whether it holds numbers (else strings). Aliases map to these names.
ATTRIBUTES: dict[str, bool] = {
    "run_id": False,
    "run_name": False,
    "status": False,
    "start_time": True,
    "end_time": True,
    "user": False,
    "experiment_id": False,
    "parent_run_id": False,
    "lifecycle_stage": False,
}


def _render_key(key: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_\-.\/:]+", key):
        return key
    return "`" + key.replace("`", "``") + "`"


def _render_scalar(value: Scalar) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, float) and math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    return repr(value)


def _render_comparison(node: Comparison) -> str:
    field = f"{node.entity.value}.{_render_key(node.key)}"
    if node.op in (Op.IS_NULL, Op.IS_NOT_NULL):
        return f"{field} {node.op.value}"
    if isinstance(node.value, tuple):
        return f"{field} {node.op.value} ({', '.join(_render_scalar(v) for v in node.value)})"
    assert node.value is not None
    return f"{field} {node.op.value} {_render_scalar(node.value)}"


def to_filter_string(node: Expr) -> str:
    """The filter text of ``node``, with only the parentheses precedence needs."""
    if isinstance(node, Comparison):
        return _render_comparison(node)
    if isinstance(node, Not):
        inner = to_filter_string(node.operand)
        return f"NOT ({inner})" if isinstance(node.operand, And | Or) else f"NOT {inner}"
    if isinstance(node, And):
        return " AND ".join(
            f"({to_filter_string(term)})" if isinstance(term, Or) else to_filter_string(term)
            for term in node.terms
        )
    return " OR ".join(to_filter_string(term) for term in node.terms)
