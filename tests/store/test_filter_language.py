"""The search filter language: what parses to which AST, and where errors point."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipyard.entities import LifecycleStage, RunStatus
from shipyard.errors import FilterSyntaxError, InvalidInputError
from shipyard.store.filter_language import (
    ATTRIBUTES,
    And,
    Comparison,
    Entity,
    Expr,
    Not,
    Op,
    Or,
    OrderBy,
    parse_filter,
    parse_order_by,
    to_filter_string,
)
from shipyard.validation import INT64_MAX, validate_key

M, P, T, A = Entity.METRIC, Entity.PARAM, Entity.TAG, Entity.ATTRIBUTE


def metric(key: str, op: Op, value: object = None) -> Comparison:
    return Comparison(M, key, op, value)  # type: ignore[arg-type]


a = metric("a", Op.GT, 1.0)
b = metric("b", Op.GT, 2.0)
c = metric("c", Op.GT, 3.0)


def test_the_issue_example() -> None:
    parsed = parse_filter(
        "metrics.accuracy > 0.95 and (params.model = 'svm' or tags.team = 'vision')"
    )
    assert parsed == And(
        metric("accuracy", Op.GT, 0.95),
        Or(Comparison(P, "model", Op.EQ, "svm"), Comparison(T, "team", Op.EQ, "vision")),
    )


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t "])
def test_an_empty_filter_is_no_filter(text: str | None) -> None:
    assert parse_filter(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.x = 1", metric("x", Op.EQ, 1.0)),
        ("metrics.x == 1", metric("x", Op.EQ, 1.0)),
        ("metrics.x != 1", metric("x", Op.NE, 1.0)),
        ("metrics.x <> 1", metric("x", Op.NE, 1.0)),
        ("metrics.x < 1", metric("x", Op.LT, 1.0)),
        ("metrics.x <= 1", metric("x", Op.LE, 1.0)),
        ("metrics.x > 1", metric("x", Op.GT, 1.0)),
        ("metrics.x >= 1", metric("x", Op.GE, 1.0)),
        ("metrics.x>=-1", metric("x", Op.GE, -1.0)),
        ("metrics.x in (1, 2.5, -3)", metric("x", Op.IN, (1.0, 2.5, -3.0))),
        ("metrics.x not in (1)", metric("x", Op.NOT_IN, (1.0,))),
        ("metrics.x is null", metric("x", Op.IS_NULL)),
        ("metrics.x IS NOT NULL", metric("x", Op.IS_NOT_NULL)),
        ("params.p like 'a%'", Comparison(P, "p", Op.LIKE, "a%")),
        ("params.p NOT LIKE 'a%'", Comparison(P, "p", Op.NOT_LIKE, "a%")),
        ("params.p ILike 'A%'", Comparison(P, "p", Op.ILIKE, "A%")),
        ("params.p not ilike 'A%'", Comparison(P, "p", Op.NOT_ILIKE, "A%")),
        ("params.p IN ('a', \"b\")", Comparison(P, "p", Op.IN, ("a", "b"))),
        ("tags.t NOT IN ('a')", Comparison(T, "t", Op.NOT_IN, ("a",))),
        ("tags.t != 'x'", Comparison(T, "t", Op.NE, "x")),
        ("tags.t IS NULL", Comparison(T, "t", Op.IS_NULL)),
    ],
)
def test_every_operator(text: str, expected: Comparison) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.5", 0.5),
        ("-0.5", -0.5),
        ("+2", 2.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("-2.5E-3", -0.0025),
        ("1e999", float("inf")),
    ],
)
def test_numbers(text: str, value: float) -> None:
    assert parse_filter(f"metrics.x = {text}") == metric("x", Op.EQ, value)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'plain'", "plain"),
        ('"double"', "double"),
        ("'it\\'s'", "it's"),
        ("'it''s'", "it's"),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'back\\\\slash'", "back\\slash"),
        ("'tab\\there'", "tab\there"),
        ("'50\\%'", "50\\%"),
        ("''", ""),
        ("'ünïcode ✓'", "ünïcode ✓"),
    ],
)
def test_string_literals_and_escapes(literal: str, value: str) -> None:
    assert parse_filter(f"params.p = {literal}") == Comparison(P, "p", Op.EQ, value)


@pytest.mark.parametrize(
    ("text", "entity", "key"),
    [
        ("metric.acc > 0", M, "acc"),
        ("METRICS.acc > 0", M, "acc"),
        ("metrics.`val loss` > 0", M, "val loss"),
        ("metrics.train/loss > 0", M, "train/loss"),
        ("metrics.val.acc-top:5 > 0", M, "val.acc-top:5"),
        ("param.p = 'x'", P, "p"),
        ("tag.t = 'x'", T, "t"),
        ("params.and = 'x'", P, "and"),
        ("attributes.status = 'RUNNING'", A, "status"),
        ("attribute.status = 'RUNNING'", A, "status"),
        ("attr.status = 'RUNNING'", A, "status"),
        ("run.status = 'RUNNING'", A, "status"),
        ("status = 'RUNNING'", A, "status"),
        ("Status = 'RUNNING'", A, "status"),
    ],
)
def test_fields_and_aliases(text: str, entity: Entity, key: str) -> None:
    parsed = parse_filter(text)
    assert isinstance(parsed, Comparison)
    assert (parsed.entity, parsed.key) == (entity, key)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id = 'abc'", Comparison(A, "run_id", Op.EQ, "abc")),
        ("run.name LIKE 'brave%'", Comparison(A, "run_name", Op.LIKE, "brave%")),
        ("start_time >= 1700000000000", Comparison(A, "start_time", Op.GE, 1700000000000)),
        ("end_time < 1.5e12", Comparison(A, "end_time", Op.LT, 1.5e12)),
        ("end_time IS NULL", Comparison(A, "end_time", Op.IS_NULL)),
        (
            "status in ('finished', 'Failed')",
            Comparison(A, "status", Op.IN, ("FINISHED", "FAILED")),
        ),
        ("lifecycle_stage = 'DELETED'", Comparison(A, "lifecycle_stage", Op.EQ, "deleted")),
        ("user != 'alice'", Comparison(A, "user", Op.NE, "alice")),
        ("parent_run_id IS NOT NULL", Comparison(A, "parent_run_id", Op.IS_NOT_NULL)),
        ("experiment_id = '1'", Comparison(A, "experiment_id", Op.EQ, "1")),
    ],
)
def test_attributes(text: str, expected: Comparison) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.a > 1 or metrics.b > 2 and metrics.c > 3", Or(a, And(b, c))),
        ("metrics.a > 1 and metrics.b > 2 or metrics.c > 3", Or(And(a, b), c)),
        ("not metrics.a > 1 and metrics.b > 2", And(Not(a), b)),
        ("not metrics.a > 1 or metrics.b > 2", Or(Not(a), b)),
        ("not (metrics.a > 1 or metrics.b > 2)", Not(Or(a, b))),
        ("not not metrics.a > 1", Not(Not(a))),
        ("metrics.a > 1 and metrics.b > 2 and metrics.c > 3", And(a, b, c)),
        ("metrics.a > 1 and (metrics.b > 2 or metrics.c > 3)", And(a, Or(b, c))),
        ("((metrics.a > 1))", a),
        ("metrics.a > 1 AND NOT (metrics.b > 2 OR metrics.c > 3)", And(a, Not(Or(b, c)))),
    ],
)
def test_precedence_not_over_and_over_or(text: str, expected: Expr) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("(metrics.acc > )", 15, "Unexpected token ')' at position 15: expected a value"),
        ("metrics.acc >", 13, "Unexpected end of filter at position 13: expected a value"),
        ("metrics.acc > 1 and", 19, "expected '(', NOT or a field"),
        ("and metrics.acc > 1", 0, "Unexpected token 'and' at position 0"),
        ("metrics.acc > 1 metrics.b > 2", 16, "expected AND, OR or the end of the filter"),
        ("metrics.acc > 1)", 15, "Unexpected token ')' at position 15"),
        ("(metrics.acc > 1", 16, "expected ')'"),
        ("metrics.acc # 1", 12, "Unexpected character '#' at position 12"),
        ("params.p = 'abc", 11, "Unterminated string starting at position 11"),
        ("params.p in ('a' 'b')", 17, "expected ')' or ','"),
        ("params.p in ()", 13, "expected a value"),
        ("metrics.acc > 0.9 and foo.bar = 1", 22, "Unknown entity 'foo'"),
        ("metrics.acc > 0.9 or colour = 'red'", 21, "Unknown attribute 'colour'"),
        ("metrics.acc = 'high'", 14, "metrics.acc holds numbers"),
        ("params.lr = 0.1", 12, "params.lr holds strings: quote the value"),
        ("params.lr > '0.1'", 10, "Operator '>' at position 10 needs numbers"),
        ("metrics.acc LIKE '9%'", 12, "LIKE at position 12 needs strings"),
        ("start_time = 'yesterday'", 13, "attributes.start_time holds numbers"),
        ("status = 'DONE'", 9, "Unknown status 'DONE'"),
        ("metrics.acc in (1, 'x')", 19, "metrics.acc holds numbers"),
        ("  metrics.`a\tb` > 1", 2, "may contain only letters"),
    ],
)
def test_errors_point_at_the_position(text: str, position: int, message: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)
    assert caught.value.position == position
    assert message in caught.value.message
    assert caught.value.to_payload()["error"]["position"] == position


def test_a_filter_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        parse_filter(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.acc DESC", OrderBy(M, "acc", ascending=False)),
        ("metrics.acc desc", OrderBy(M, "acc", ascending=False)),
        ("params.lr", OrderBy(P, "lr")),
        ("tags.`odd key` ASC", OrderBy(T, "odd key")),
        ("attributes.start_time ASC", OrderBy(A, "start_time")),
        ("start_time", OrderBy(A, "start_time")),
        ("name DESC", OrderBy(A, "run_name", ascending=False)),
        ("metrics.train/loss", OrderBy(M, "train/loss")),
    ],
)
def test_order_by_items(text: str, expected: OrderBy) -> None:
    assert parse_order_by(text) == expected


@pytest.mark.parametrize(
    "text", ["", "  ", "metrics.acc sideways", "foo.bar", "colour", "metrics.acc DESC ASC", "(x)"]
)
def test_invalid_order_by_items(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_order_by(text)
    assert not isinstance(caught.value, FilterSyntaxError)


# -- round trip: rendering an AST and parsing it back gives the same AST -------------

keys = st.from_regex(r"[A-Za-z0-9_\-./: ]{1,12}", fullmatch=True).filter(
    lambda key: _valid_key(key)
)


def _valid_key(key: str) -> bool:
    try:
        validate_key(key)
    except InvalidInputError:
        return False
    return True


texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
floats = st.floats(allow_nan=False)
string_ops = st.sampled_from([Op.EQ, Op.NE, Op.LIKE, Op.NOT_LIKE, Op.ILIKE, Op.NOT_ILIKE])
number_ops = st.sampled_from([Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE])


def _comparisons(entity: Entity, key: st.SearchStrategy[str], value: st.SearchStrategy[object],
                 ops: st.SearchStrategy[Op]) -> st.SearchStrategy[Comparison]:  # fmt: skip
    return st.one_of(
        st.builds(Comparison, st.just(entity), key, ops, value),
        st.builds(
            Comparison,
            st.just(entity),
            key,
            st.sampled_from([Op.IN, Op.NOT_IN]),
            st.lists(value, min_size=1, max_size=3).map(tuple),
        ),
        st.builds(Comparison, st.just(entity), key, st.sampled_from([Op.IS_NULL, Op.IS_NOT_NULL])),
    )


statuses = st.sampled_from([status.value for status in RunStatus])
stages = st.sampled_from([stage.value for stage in LifecycleStage])
string_attributes = [k for k, numeric in ATTRIBUTES.items() if not numeric]
times = st.sampled_from(["start_time", "end_time"])
comparisons = st.one_of(
    _comparisons(M, keys, floats, number_ops),
    _comparisons(P, keys, texts, string_ops),
    _comparisons(T, keys, texts, string_ops),
    _comparisons(A, times, st.integers(-INT64_MAX, INT64_MAX), number_ops),
    _comparisons(A, st.just("status"), statuses, st.sampled_from([Op.EQ, Op.NE])),
    _comparisons(A, st.just("lifecycle_stage"), stages, st.sampled_from([Op.EQ, Op.NE])),
    _comparisons(
        A,
        st.sampled_from([k for k in string_attributes if k not in ("status", "lifecycle_stage")]),
        texts,
        string_ops,
    ),
)
expressions = st.recursive(
    comparisons,
    lambda children: st.one_of(
        st.builds(And, children, children),
        st.builds(Or, children, children),
        st.builds(Not, children),
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(expressions)
def test_rendering_round_trips(expr: Expr) -> None:
    assert parse_filter(to_filter_string(expr)) == expr
