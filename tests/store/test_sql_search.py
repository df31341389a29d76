"""Run search translated to SQL, on a real SQLite file and a real PostgreSQL database.

One small, hand-made data set per backend (inserted with Core, schema from
``tables.metadata``) covers every operator, NaN and missing keys, ordering,
views, several experiments and paging.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from shipyard.entities import ViewType
from shipyard.errors import FilterSyntaxError, InvalidInputError
from shipyard.store.base import MAX_PAGE_SIZE
from shipyard.store.filter_language import parse_filter
from shipyard.store.sql import tables
from shipyard.store.sql.search import search_run_ids
from shipyard.store.sql.search_filter import FilterCompiler, selective_comparisons

NAN = math.nan
E1, E2, E3 = "e1", "e2", "e3"  # E3 is deleted


@dataclass
class R:
    name: str
    experiment: str
    start: int
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    status: str = "FINISHED"
    end: int | None = None
    user: str | None = None
    parent: str | None = None
    deleted: bool = False


RUNS = [
    R("r01", E1, 1000, {"acc": 0.9, "loss": 0.5}, {"model": "svm", "lr": "0.1"},
      {"team": "vision", "glob": "a*b[c]?"}, end=2000, user="alice"),
    R("r02", E1, 2000, {"acc": 0.95, "loss": NAN}, {"model": "SVM", "note": "50%"},
      {"team": "Vision"}, end=2500, user="bob"),
    R("r03", E1, 3000, {"acc": NAN}, {"model": "tree"}, {"team": "nlp"},
      status="RUNNING", parent="r01"),
    R("r04", E1, 4000, {"loss": 0.1, "train/loss": -1.5}, {"model": "svm_linear", "note": "5"},
      status="FAILED", end=4100, user="alice"),
    R("r05", E1, 5000, {"acc": 0.99}, {"model": "svm"}, deleted=True),
    R("r06", E2, 1500, {"acc": 0.5, "val loss": 2.0}, {"model": "rf"}, end=1600, user="carol"),
    R("r07", E2, 2500, {"acc": 0.95}, {"model": "rf"}, {"team": "nlp"}, end=3000),
    R("r08", E3, 3500, {"acc": 0.7}, {"model": "svm"}),
    R("r09", E2, 2500, {"acc": math.inf, "loss": -math.inf}, {"lr": "0.01"}, status="KILLED"),
]  # fmt: skip
ALL_ACTIVE = {"r01", "r02", "r03", "r04", "r06", "r07", "r09"}


def run_id(name: str) -> str:
    return name.ljust(32, "0")


def _insert(engine: sa.Engine) -> None:
    tables.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            tables.experiments.insert(),
            [
                {"id": exp, "name": exp, "lifecycle_stage": "deleted" if exp == E3 else "active",
                 "created_at": 0, "updated_at": 0}
                for exp in (E1, E2, E3)
            ],
        )  # fmt: skip
        for r in RUNS:
            conn.execute(
                tables.runs.insert(),
                {"id": run_id(r.name), "experiment_id": r.experiment, "name": f"name-{r.name}",
                 "status": r.status, "start_time": r.start, "end_time": r.end,
                 "lifecycle_stage": "deleted" if r.deleted else "active",
                 "parent_run_id": run_id(r.parent) if r.parent else None, "user": r.user},
            )  # fmt: skip
            for key, value in r.metrics.items():
                nan = math.isnan(value)
                conn.execute(
                    tables.latest_metrics.insert(),
                    {"run_id": run_id(r.name), "key": key, "value": None if nan else value,
                     "is_nan": nan, "step": 0, "timestamp": 0},
                )  # fmt: skip
            for table, values in ((tables.params, r.params), (tables.tags, r.tags)):
                for key, text in values.items():
                    conn.execute(
                        table.insert(), {"run_id": run_id(r.name), "key": key, "value": text}
                    )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("search") / "search.db"
        engine = sa.create_engine(f"sqlite:///{path}")
        _insert(engine)
        yield engine
        engine.dispose()
        return
    # The session's database is shared with other tests: work in a schema of our own.
    url: str = request.getfixturevalue("postgres_url")
    schema = f"search_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        _insert(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def conn(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as connection:
        yield connection


def names(ids: Sequence[str]) -> list[str]:
    return [run_id_.rstrip("0") or run_id_ for run_id_ in ids]


def search(
    conn: sa.Connection,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    experiments: Sequence[str] = (),
    view: ViewType = ViewType.ACTIVE,
    max_results: int = 100,
    token: str | None = None,
) -> tuple[list[str], str | None]:
    ids, next_token = search_run_ids(
        conn, experiments, filter_string, order_by, view, max_results, token
    )
    return names(ids), next_token


def matching(conn: sa.Connection, filter_string: str) -> set[str]:
    found, token = search(conn, filter_string)
    assert token is None
    assert len(found) == len(set(found))
    return set(found)


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (None, ALL_ACTIVE),
        ("  ", ALL_ACTIVE),
        ("metrics.acc = 0.95", {"r02", "r07"}),
        ("metrics.acc != 0.95", {"r01", "r06", "r09"}),  # NaN and missing never match
        ("metrics.acc < 0.9", {"r06"}),
        ("metrics.acc <= 0.9", {"r01", "r06"}),
        ("metrics.acc > 0.9", {"r02", "r07", "r09"}),
        ("metrics.acc >= 0.95", {"r02", "r07", "r09"}),
        ("metrics.acc > 1e308", {"r09"}),
        ("metrics.loss < -1e308", {"r09"}),
        ("metrics.acc in (0.5, 0.9)", {"r01", "r06"}),
        ("metrics.acc not in (0.5, 0.9)", {"r02", "r07", "r09"}),
        ("metrics.acc is null", {"r04"}),
        ("metrics.acc is not null", {"r01", "r02", "r03", "r06", "r07", "r09"}),
        ("metrics.loss > -1", {"r01", "r04"}),
        ("metrics.train/loss = -1.5", {"r04"}),
        ("metrics.`val loss` >= 2", {"r06"}),
        ("params.model = 'svm'", {"r01"}),
        ("params.model != 'svm'", {"r02", "r03", "r04", "r06", "r07"}),
        ("params.model in ('svm', 'tree')", {"r01", "r03"}),
        ("params.model not in ('svm', 'rf')", {"r02", "r03", "r04"}),
        ("params.model like 'svm%'", {"r01", "r04"}),
        ("params.model like 'SVM'", {"r02"}),
        ("params.model like 's_m'", {"r01"}),
        ("params.model like 'svm\\_%'", {"r04"}),
        ("params.model like '%\\_%'", {"r04"}),
        ("params.model not like 'svm%'", {"r02", "r03", "r06", "r07"}),
        ("params.model ilike 'svm%'", {"r01", "r02", "r04"}),
        ("params.model not ilike 'SVM%'", {"r03", "r06", "r07"}),
        ("params.note like '50\\%'", {"r02"}),
        ("params.note like '5%'", {"r02", "r04"}),
        ("tags.glob like 'a*b[c]?'", {"r01"}),
        ("tags.glob like 'a*%'", {"r01"}),
        ("tags.glob like 'ab%'", set()),
        ("tags.team = 'vision'", {"r01"}),
        ("tags.team ilike 'VISION'", {"r01", "r02"}),
        ("tags.team is null", {"r04", "r06", "r09"}),
        ("params.lr is not null", {"r01", "r09"}),
        ("status = 'running'", {"r03"}),
        ("status != 'FINISHED'", {"r03", "r04", "r09"}),
        ("status in ('FAILED', 'KILLED')", {"r04", "r09"}),
        ("start_time >= 2500", {"r03", "r04", "r07", "r09"}),
        ("start_time < 2000 and start_time > 1000", {"r06"}),
        ("end_time is null", {"r03", "r09"}),
        ("end_time > 2000", {"r02", "r04", "r07"}),
        ("end_time != 2000", {"r02", "r04", "r06", "r07"}),
        ("not end_time = 2000", {"r02", "r03", "r04", "r06", "r07", "r09"}),
        ("user = 'alice'", {"r01", "r04"}),
        ("user != 'alice'", {"r02", "r06"}),
        ("not user = 'alice'", {"r02", "r03", "r06", "r07", "r09"}),
        ("user like 'c%'", {"r06"}),
        ("run_name = 'name-r06'", {"r06"}),
        ("name ilike 'NAME-R0_'", ALL_ACTIVE),
        (f"run_id = '{run_id('r07')}'", {"r07"}),
        (f"id in ('{run_id('r07')}', '{run_id('r05')}')", {"r07"}),
        (f"parent_run_id = '{run_id('r01')}'", {"r03"}),
        ("parent_run_id is null", ALL_ACTIVE - {"r03"}),
        ("experiment_id = 'e2'", {"r06", "r07", "r09"}),
        ("lifecycle_stage = 'active'", ALL_ACTIVE),
    ],
)
def test_every_operator(conn: sa.Connection, filter_string: str | None, expected: set[str]) -> None:
    assert matching(conn, filter_string) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.acc > 0.9 and params.model = 'rf'", {"r07"}),
        ("metrics.acc > 0.9 or params.model = 'tree'", {"r02", "r03", "r07", "r09"}),
        ("not metrics.acc > 0.9", {"r01", "r03", "r04", "r06"}),  # NaN and missing included
        ("not params.model = 'svm'", {"r02", "r03", "r04", "r06", "r07", "r09"}),
        ("not (metrics.acc > 0.9 or tags.team = 'nlp')", {"r01", "r04", "r06"}),
        ("metrics.acc > 0.8 and (params.model = 'rf' or tags.team = 'vision')", {"r01", "r07"}),
        ("metrics.acc > 0.8 and params.model = 'rf' or tags.team = 'vision'", {"r01", "r07"}),
        ("params.model = 'svm' or params.model = 'rf' and metrics.acc < 0.9", {"r01", "r06"}),
        ("not not metrics.acc > 0.9", {"r02", "r07", "r09"}),
        ("metrics.acc is null or metrics.loss is null", {"r03", "r04", "r06", "r07"}),
    ],
)
def test_and_or_not(conn: sa.Connection, filter_string: str, expected: set[str]) -> None:
    assert matching(conn, filter_string) == expected


@pytest.mark.parametrize(
    "filter_string",
    [
        "metrics.acc > 0.9 and params.model in ('rf', 'SVM')",
        "metrics.acc != 0.95 and tags.team = 'vision'",
        "metrics.loss <= 0.5 and params.model like 'svm%'",
        "params.model = 'rf' and metrics.acc is not null",
    ],
)
def test_in_list_and_exists_forms_agree(conn: sa.Connection, filter_string: str) -> None:
    """A rare AND term may become an IN (subquery) list: the result must not change."""
    expr = parse_filter(filter_string)
    assert expr is not None
    dialect = conn.dialect.name
    rare = selective_comparisons(conn, expr)
    if dialect == "sqlite":
        assert rare, "every term is rare in this small data set"

    def ids(compiler: FilterCompiler) -> set[str]:
        query = sa.select(tables.runs.c.id).where(compiler.condition(expr))
        return set(names(conn.execute(query).scalars().all()))

    every_term = frozenset(rare)
    assert ids(FilterCompiler(dialect)) == ids(FilterCompiler(dialect, selective=every_term))


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (None, ["r04", "r03", "r07", "r09", "r02", "r06", "r01"]),
        (["start_time"], ["r01", "r06", "r02", "r07", "r09", "r03", "r04"]),
        (["attributes.start_time DESC"], ["r04", "r03", "r07", "r09", "r02", "r06", "r01"]),
        # Ties on the value break by start time (newest first), then id.
        (["metrics.acc DESC"], ["r09", "r07", "r02", "r01", "r06", "r03", "r04"]),
        (["metrics.acc"], ["r06", "r01", "r07", "r02", "r09", "r03", "r04"]),
        (["metrics.loss ASC"], ["r09", "r04", "r01", "r02", "r03", "r07", "r06"]),
        (["metrics.loss DESC"], ["r01", "r04", "r09", "r02", "r03", "r07", "r06"]),
        (["params.model"], ["r02", "r07", "r06", "r01", "r04", "r03", "r09"]),
        (["params.model DESC"], ["r03", "r04", "r01", "r07", "r06", "r02", "r09"]),
        (["tags.team DESC"], ["r01", "r03", "r07", "r02", "r04", "r09", "r06"]),
        (["end_time"], ["r06", "r01", "r02", "r07", "r04", "r03", "r09"]),
        (["end_time DESC"], ["r04", "r07", "r02", "r01", "r06", "r03", "r09"]),
        (["user DESC"], ["r06", "r02", "r04", "r01", "r03", "r07", "r09"]),
        (["name DESC"], ["r09", "r07", "r06", "r04", "r03", "r02", "r01"]),
        (["params.model", "metrics.acc"], ["r02", "r06", "r07", "r01", "r04", "r03", "r09"]),
        (["tags.team", "metrics.acc DESC"], ["r02", "r07", "r03", "r01", "r09", "r06", "r04"]),
        (["status", "metrics.loss DESC"], ["r04", "r01", "r02", "r07", "r06", "r09", "r03"]),
    ],
)
def test_order(conn: sa.Connection, order_by: list[str] | None, expected: list[str]) -> None:
    found, token = search(conn, order_by=order_by)
    assert found == expected
    assert token is None


def test_order_with_a_filter(conn: sa.Connection) -> None:
    found, _ = search(conn, "params.model ilike 'svm%'", ["metrics.acc DESC"])
    assert found == ["r02", "r01", "r04"]


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (ViewType.ACTIVE, ALL_ACTIVE),
        (ViewType.DELETED, {"r05", "r08"}),  # a deleted run; a run of a deleted experiment
        (ViewType.ALL, ALL_ACTIVE | {"r05", "r08"}),
    ],
)
def test_views(conn: sa.Connection, view: ViewType, expected: set[str]) -> None:
    found, _ = search(conn, view=view)
    assert set(found) == expected
    assert len(found) == len(expected)


@pytest.mark.parametrize(
    ("experiments", "view", "expected"),
    [
        ([E2], ViewType.ACTIVE, {"r06", "r07", "r09"}),
        ([E1, E2], ViewType.ACTIVE, ALL_ACTIVE),
        ([E2, E1, E2], ViewType.ACTIVE, ALL_ACTIVE),
        ([E3], ViewType.ACTIVE, set()),
        ([E3], ViewType.DELETED, {"r08"}),
        ([E1, E3], ViewType.DELETED, {"r05", "r08"}),
        ([E1], ViewType.ALL, {"r01", "r02", "r03", "r04", "r05"}),
        (["no-such-experiment"], ViewType.ALL, set()),
    ],
)
def test_experiments(
    conn: sa.Connection, experiments: list[str], view: ViewType, expected: set[str]
) -> None:
    found, _ = search(conn, experiments=experiments, view=view)
    assert set(found) == expected


def test_the_view_and_experiments_combine_with_a_filter(conn: sa.Connection) -> None:
    found, _ = search(conn, "params.model = 'svm'", experiments=[E1, E3], view=ViewType.ALL)
    assert set(found) == {"r01", "r05", "r08"}


@pytest.mark.parametrize(
    ("filter_string", "order_by"),
    [
        (None, None),
        (None, ["metrics.acc DESC"]),
        (None, ["metrics.loss"]),
        ("metrics.acc > 0 or metrics.acc is null", ["metrics.acc", "params.model DESC"]),
        (None, ["params.model DESC", "end_time"]),
        (None, ["end_time DESC"]),
        ("params.model != 'tree'", ["tags.team"]),
    ],
)
@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_paging_walks_every_run_once_in_order(
    conn: sa.Connection,
    filter_string: str | None,
    order_by: list[str] | None,
    page_size: int,
) -> None:
    whole, _ = search(conn, filter_string, order_by, view=ViewType.ALL)
    paged: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page, token = search(
            conn, filter_string, order_by, view=ViewType.ALL, max_results=page_size, token=token
        )
        pages += 1
        assert len(page) == page_size or token is None
        paged.extend(page)
        if token is None:
            break
        assert pages <= len(whole), "paging does not end"
    assert paged == whole
    assert len(set(paged)) == len(paged)
    assert pages == max(1, math.ceil(len(whole) / page_size))


def test_a_page_that_fills_exactly_has_no_next_token(conn: sa.Connection) -> None:
    found, token = search(conn, max_results=len(ALL_ACTIVE))
    assert len(found) == len(ALL_ACTIVE)
    assert token is None


def test_the_page_size_may_change_between_pages(conn: sa.Connection) -> None:
    order = ["metrics.acc DESC"]
    first, token = search(conn, order_by=order, max_results=2)
    rest, end = search(conn, order_by=order, max_results=10, token=token)
    assert first + rest == search(conn, order_by=order)[0]
    assert end is None


@pytest.mark.parametrize(
    "changed",
    [
        {"filter_string": "metrics.acc > 0"},
        {"order_by": ["metrics.acc"]},
        {"experiments": [E1]},
        {"view": ViewType.ALL},
    ],
)
def test_a_token_of_another_search_is_refused(
    conn: sa.Connection, changed: dict[str, object]
) -> None:
    query: dict[str, object] = {"order_by": ["metrics.acc DESC"], "max_results": 2}
    _, token = search(conn, **query)  # type: ignore[arg-type]
    assert token is not None
    with pytest.raises(InvalidInputError, match="another search"):
        search(conn, **{**query, **changed, "token": token})  # type: ignore[arg-type]


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "not a token",
        "%%%",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _token([1, 2]),
        _token({"s": 0, "o": -1, "f": "x"}),
        _token({"s": 0, "o": True, "f": "x"}),
        _token({"s": 99, "o": 0, "f": "x"}),
        _token({"o": 0}),
    ],
)
def test_malformed_tokens_are_refused(conn: sa.Connection, token: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid page token"):
        search(conn, token=token)


@pytest.mark.parametrize("max_results", [0, -1, MAX_PAGE_SIZE + 1, True, 2.5, "10"])
def test_max_results_is_checked(conn: sa.Connection, max_results: object) -> None:
    with pytest.raises(InvalidInputError, match="max_results"):
        search(conn, max_results=max_results)  # type: ignore[arg-type]


def test_max_page_size_is_allowed(conn: sa.Connection) -> None:
    found, token = search(conn, max_results=MAX_PAGE_SIZE)
    assert set(found) == ALL_ACTIVE
    assert token is None


def test_bad_input_is_refused(conn: sa.Connection) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        search(conn, "metrics.acc >")
    assert caught.value.position == 13
    with pytest.raises(InvalidInputError, match="order_by"):
        search(conn, order_by=["metrics.acc sideways"])
    with pytest.raises(InvalidInputError, match="order_by"):
        search(conn, order_by="metrics.acc")
    with pytest.raises(InvalidInputError, match="experiment"):
        search(conn, experiments=E1)
    with pytest.raises(InvalidInputError, match="view"):
        search(conn, view="sideways")  # type: ignore[arg-type]


def _payload(token: str) -> dict[str, object]:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: {**p, "k": p["k"][:-1]},  # too few sort values
        lambda p: {**p, "k": "x"},
        lambda p: {**p, "k": [2**70, *p["k"][1:]]},  # beyond 64 bits
        lambda p: {**p, "k": ["\ud800", *p["k"][1:]]},  # a lone surrogate
        lambda p: {**p, "k": [*p["k"][:-1], 5]},  # the run id must be a string
        lambda p: {**p, "k": [*p["k"][:-2], "x", p["k"][-1]]},  # start time must be an int
        lambda p: {**p, "k": [None, *p["k"][1:]]},  # the first key's value is never NULL
        lambda p: {**p, "s": 2**70},
        lambda p: {**p, "s": True},
    ],
)
def test_forged_keyset_tokens_are_refused(conn: sa.Connection, tamper: object) -> None:
    order = ["metrics.acc DESC", "params.model"]
    _, token = search(conn, order_by=order, max_results=2)
    assert token is not None
    forged = tamper(_payload(token))  # type: ignore[operator]
    with pytest.raises(InvalidInputError, match="invalid page token"):
        search(conn, order_by=order, max_results=2, token=_token(forged))


def test_an_oversized_token_is_refused(conn: sa.Connection) -> None:
    with pytest.raises(InvalidInputError, match="invalid page token"):
        search(conn, token="A" * 2_000_000)
