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


@dataclass(frozen=True, slots=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or:
    left: Expr
    right: Expr


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
    left, right = to_filter_string(node.left), to_filter_string(node.right)
    if isinstance(node, And):
        if isinstance(node.left, Or):
            left = f"({left})"
        if isinstance(node.right, And | Or):
            right = f"({right})"
        return f"{left} AND {right}"
    if isinstance(node.right, Or):
        right = f"({right})"
    return f"{left} OR {right}"
