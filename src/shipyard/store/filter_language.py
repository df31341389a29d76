"""The run search language: filter strings and order-by items parsed into a typed AST.

A filter combines comparisons with ``AND``, ``OR``, ``NOT`` and parentheses
(``NOT`` binds tighter than ``AND``, which binds tighter than ``OR``)::

    metrics.accuracy > 0.95 and (params.model = 'svm' or tags.team = 'vision')

A field is ``<entity>.<key>``: entities are ``metrics`` (``metric``), ``params``
(``param``), ``tags`` (``tag``) and ``attributes`` (``attribute``, ``attr``,
``run``); a bare name such as ``status`` is an attribute. Keys may hold
``. / - :`` as they are; other keys go in backquotes (``metrics.`val loss```,
a backquote doubled inside). Operators: ``= != < <= > >=``, ``[NOT] LIKE``,
``[NOT] ILIKE``, ``[NOT] IN (...)``, ``IS [NOT] NULL``. Keywords ignore case.
Strings are single- or double-quoted; ``\\'``, ``\\"``, ``\\\\``, ``\\n``, ``\\t`` and a
doubled quote are escapes, any other backslash is kept (so ``'50\\%'`` reaches
LIKE as an escaped ``%``). Numbers may be negative and use exponents.

Metrics and ``start_time``/``end_time`` compare with numbers; params, tags and the
other attributes with strings (equality, LIKE and IN only: string order differs
between databases).
"""

from __future__ import annotations

import functools
import re
from typing import Any, cast

import lark

from shipyard.entities import LifecycleStage, RunStatus
from shipyard.errors import FilterSyntaxError, InvalidInputError, ShipyardError
from shipyard.store.filter_ast import (
    ATTRIBUTES,
    And,
    Comparison,
    Entity,
    Expr,
    Not,
    Op,
    Or,
    OrderBy,
    Scalar,
    to_filter_string,
)
from shipyard.validation import INT64_MAX, validate_key, validate_utf8

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
    "parse_filter",
    "parse_order_by",
    "to_filter_string",
]


_ATTRIBUTE_ALIASES = {"id": "run_id", "name": "run_name"}
_ENTITY_ALIASES = {
    "metrics": Entity.METRIC,
    "metric": Entity.METRIC,
    "params": Entity.PARAM,
    "param": Entity.PARAM,
    "tags": Entity.TAG,
    "tag": Entity.TAG,
    "attributes": Entity.ATTRIBUTE,
    "attribute": Entity.ATTRIBUTE,
    "attr": Entity.ATTRIBUTE,
    "run": Entity.ATTRIBUTE,
}

# Keywords are regexes with a word boundary and a higher priority than FIELD, so
# that `not` is a keyword while `notes` or `params.in` stay fields; a bare FIELD is
# never a keyword, so a misplaced `and` is reported as such.
_GRAMMAR = r"""
filter: or_expr
?or_expr: and_expr
        | or_expr OR and_expr -> or_
?and_expr: not_expr
         | and_expr AND not_expr -> and_
?not_expr: atom
         | NOT not_expr -> not_
?atom: comparison
     | LPAR or_expr RPAR
comparison: FIELD CMP value
          | FIELD LIKE STRING
          | FIELD NOT LIKE STRING
          | FIELD ILIKE STRING
          | FIELD NOT ILIKE STRING
          | FIELD IN LPAR value (COMMA value)* RPAR
          | FIELD NOT IN LPAR value (COMMA value)* RPAR
          | FIELD IS NULL
          | FIELD IS NOT NULL
?value: STRING | NUMBER

order_item: FIELD (ASC | DESC)?

AND.2: /and\b/i
OR.2: /or\b/i
NOT.2: /not\b/i
LIKE.2: /like\b/i
ILIKE.2: /ilike\b/i
IN.2: /in\b/i
IS.2: /is\b/i
NULL.2: /null\b/i
ASC.2: /asc\b/i
DESC.2: /desc\b/i
CMP: /==|!=|<>|<=|>=|=|<|>/
STRING: /'([^'\\]|\\.|'')*'/s | /"([^"\\]|\\.|"")*"/s
NUMBER: /[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/
LPAR: "("
RPAR: ")"
COMMA: ","
%ignore /\s+/
"""
# A name, not a keyword, optionally followed by `.key` or `.`quoted key``.
_FIELD = (
    r"(?!(?i:and|or|not|like|ilike|in|is|null|asc|desc)\b)"
    r"[A-Za-z_][A-Za-z0-9_]*(\.(`([^`]|``)+`|[A-Za-z0-9_\-.\/:]+))?"
)
_GRAMMAR += f"FIELD: /{_FIELD}/\n"

_DESCRIPTIONS = {
    "FIELD": "a field such as metrics.acc",
    "CMP": "an operator",
    "STRING": "a string",
    "NUMBER": "a number",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "$END": "the end of the filter",
}
_INT_RE = re.compile(r"[+-]?\d+")
MAX_FILTER_LENGTH = 10_000
# Parentheses and NOTs inside one another; AND/OR chains are flat and do not count.
MAX_FILTER_DEPTH = 100
_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


@functools.cache
def _parser() -> lark.Lark:
    return lark.Lark(_GRAMMAR, parser="lalr", lexer="contextual", start=["filter", "order_item"])


def _describe_expected(expected: set[str]) -> str:
    if expected and expected <= {"STRING", "NUMBER"}:
        return "a value"
    names = sorted(_DESCRIPTIONS.get(name, name) for name in expected)
    if not names:
        return "something else"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _syntax_error(exc: lark.exceptions.UnexpectedInput, text: str) -> FilterSyntaxError:
    if isinstance(exc, lark.exceptions.UnexpectedToken):
        token = exc.token
        # `accepts` simulates the parser; `expected` may hold LALR look-ahead leftovers.
        expected = set(exc.accepts or exc.expected)
        if token.type == "$END":
            position = len(text)
            what = "Unexpected end of filter"
        else:
            position = token.start_pos or 0
            what = f"Unexpected token {str(token)!r}"
    elif isinstance(exc, lark.exceptions.UnexpectedCharacters):
        position = exc.pos_in_stream or 0
        expected = set(exc.allowed or ())
        char = text[position]
        if char in "'\"":
            return FilterSyntaxError(
                f"Unterminated string starting at position {position}", position
            )
        what = f"Unexpected character {char!r}"
    else:  # UnexpectedEOF: the LALR parser reports it as a $END token instead.
        position = len(text)
        expected = set(getattr(exc, "expected", ()) or ())
        what = "Unexpected end of filter"
    return FilterSyntaxError(
        f"{what} at position {position}: expected {_describe_expected(expected)}", position
    )


def _unquote_string(raw: str) -> str:
    quote, body = raw[0], raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        elif char == quote:  # a doubled quote, the only way the grammar lets one in
            out.append(quote)
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _split_field(token: lark.Token) -> tuple[Entity, str]:
    text, position = str(token), token.start_pos
    entity_name, dot, key = text.partition(".")
    if not dot:
        entity = Entity.ATTRIBUTE
        key = entity_name
    else:
        found = _ENTITY_ALIASES.get(entity_name.lower())
        if found is None:
            raise FilterSyntaxError(
                f"Unknown entity {entity_name!r} at position {position}: expected metrics, "
                "params, tags or attributes",
                position,
            )
        entity = found
        if key.startswith("`"):
            key = key[1:-1].replace("``", "`")
    if entity is Entity.ATTRIBUTE:
        name = _ATTRIBUTE_ALIASES.get(key.lower(), key.lower())
        if name not in ATTRIBUTES:
            raise FilterSyntaxError(
                f"Unknown attribute {key!r} at position {position}: expected one of "
                + ", ".join(sorted(ATTRIBUTES)),
                position,
            )
        return entity, name
    try:
        validate_key(key)
    except InvalidInputError as exc:
        raise FilterSyntaxError(f"{exc.message} (at position {position})", position) from None
    return entity, key


def _is_numeric(entity: Entity, key: str) -> bool:
    return entity is Entity.METRIC or (entity is Entity.ATTRIBUTE and ATTRIBUTES[key])


def _field_name(entity: Entity, key: str) -> str:
    return f"{entity.value}.{key}"


def _convert_value(token: lark.Token, entity: Entity, key: str) -> Scalar:
    text, position = str(token), token.start_pos
    numeric = _is_numeric(entity, key)
    if token.type == "NUMBER":
        if not numeric:
            raise FilterSyntaxError(
                f"{_field_name(entity, key)} holds strings: quote the value at position "
                f"{position} ('{text}')",
                position,
            )
        if entity is Entity.METRIC or not _INT_RE.fullmatch(text):
            return float(text)
        number = int(text)
        if not -INT64_MAX <= number <= INT64_MAX:
            raise FilterSyntaxError(
                f"{_field_name(entity, key)} value {text} at position {position} is out of "
                "the 64-bit range",
                position,
            )
        return number
    if numeric:
        raise FilterSyntaxError(
            f"{_field_name(entity, key)} holds numbers: expected a number at position "
            f"{position}, got a string",
            position,
        )
    value = _unquote_string(text)
    if entity is Entity.ATTRIBUTE and key == "status":
        allowed = [status.value for status in RunStatus]
        if value.upper() not in allowed:
            raise FilterSyntaxError(
                f"Unknown status {value!r} at position {position}: expected one of "
                + ", ".join(allowed),
                position,
            )
        value = value.upper()
    if entity is Entity.ATTRIBUTE and key == "lifecycle_stage":
        allowed = [stage.value for stage in LifecycleStage]
        if value.lower() not in allowed:
            raise FilterSyntaxError(
                f"Unknown lifecycle stage {value!r} at position {position}: expected one of "
                + ", ".join(allowed),
                position,
            )
        value = value.lower()
    return value


_CMP_OPS = {"=": Op.EQ, "==": Op.EQ, "!=": Op.NE, "<>": Op.NE, "<": Op.LT, "<=": Op.LE,
            ">": Op.GT, ">=": Op.GE}  # fmt: skip
_ORDERING_OPS = {Op.LT, Op.LE, Op.GT, Op.GE}


def _comparison(tree: lark.Tree[Any]) -> Comparison:
    tokens = cast(list[lark.Token], tree.children)
    field, rest = tokens[0], tokens[1:]
    entity, key = _split_field(field)
    kinds = [token.type for token in rest]
    op_position = rest[0].start_pos
    if kinds[0] == "CMP":
        op = _CMP_OPS[str(rest[0])]
        if op in _ORDERING_OPS and not _is_numeric(entity, key):
            raise FilterSyntaxError(
                f"Operator {str(rest[0])!r} at position {op_position} needs numbers, and "
                f"{_field_name(entity, key)} holds strings: use =, !=, LIKE, ILIKE or IN",
                op_position,
            )
        return Comparison(entity, key, op, _convert_value(rest[1], entity, key))
    if kinds[0] == "IS":
        return Comparison(entity, key, Op.IS_NOT_NULL if "NOT" in kinds else Op.IS_NULL)
    negated = kinds[0] == "NOT"
    word = kinds[1] if negated else kinds[0]
    if word == "IN":
        values = tuple(
            _convert_value(token, entity, key)
            for token in rest
            if token.type in ("STRING", "NUMBER")
        )
        return Comparison(entity, key, Op.NOT_IN if negated else Op.IN, values)
    op = Op(("NOT " if negated else "") + word)
    if _is_numeric(entity, key):
        raise FilterSyntaxError(
            f"{word} at position {op_position} needs strings, and "
            f"{_field_name(entity, key)} holds numbers",
            op_position,
        )
    return Comparison(entity, key, op, _convert_value(rest[-1], entity, key))


def _chain(node: lark.Tree[Any]) -> list[lark.Tree[Any]]:
    """The operands of a left-deep ``a OR b OR c`` chain, walked without recursion."""
    operands: list[lark.Tree[Any]] = []
    while isinstance(node, lark.Tree) and node.data in ("and_", "or_"):
        kind = node.data
        children = [child for child in node.children if not isinstance(child, lark.Token)]
        operands.append(children[1])
        node = children[0]
        if not (isinstance(node, lark.Tree) and node.data == kind):
            operands.append(node)
            break
    return operands[::-1]


def _build(node: lark.Tree[Any] | lark.Token, depth: int = 0) -> Expr:
    if isinstance(node, lark.Token):  # pragma: no cover - the grammar never yields one here
        raise FilterSyntaxError(f"Unexpected token {str(node)!r}", node.start_pos)
    if depth > MAX_FILTER_DEPTH:
        raise FilterSyntaxError(
            f"Filter nests parentheses and NOT more than {MAX_FILTER_DEPTH} deep", 0
        )
    data = node.data
    children = [child for child in node.children if not isinstance(child, lark.Token)]
    if data == "comparison":
        return _comparison(node)
    if data == "and_":
        return And(*(_build(child, depth) for child in _chain(node)))
    if data == "or_":
        return Or(*(_build(child, depth) for child in _chain(node)))
    if data == "not_":
        return Not(_build(children[0], depth + 1))
    # A parenthesized group or the start rule: exactly one sub-expression.
    return _build(children[0], depth + 1)


def parse_filter(text: str | None) -> Expr | None:
    """The AST of ``text``; None for an empty or blank filter.

    Raises :class:`FilterSyntaxError` whose ``position`` is the 0-based offset at fault.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidInputError(f"filter must be a string, got {type(text).__name__}")
    validate_utf8(text, "filter")
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterSyntaxError(
            f"Filter is {len(text)} characters long; the limit is {MAX_FILTER_LENGTH}",
            MAX_FILTER_LENGTH,
        )
    if not text.strip():
        return None
    try:
        tree = _parser().parse(text, start="filter")
        return _build(tree)
    except lark.exceptions.UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    except RecursionError:  # a backstop: the limits above keep well below it
        raise FilterSyntaxError("Filter is nested too deeply", 0) from None


def parse_order_by(text: str) -> OrderBy:
    """One order-by item: ``metrics.acc DESC``, ``params.lr``, ``start_time ASC``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("order_by items must be non-empty strings")
    try:
        tree = _parser().parse(text, start="order_item")
        tokens = cast(list[lark.Token], tree.children)
        entity, key = _split_field(tokens[0])
    except lark.exceptions.UnexpectedInput as exc:
        error = _syntax_error(exc, text)
        raise InvalidInputError(f"Invalid order_by {text!r}: {error.message}") from None
    except ShipyardError as exc:
        raise InvalidInputError(f"Invalid order_by {text!r}: {exc.message}") from None
    ascending = len(tokens) == 1 or tokens[1].type == "ASC"
    return OrderBy(entity, key, ascending)
