"""Store contract: the model registry (models, versions, aliases and their audit trail),
evaluations, promotion decisions and gc references.

Runs on SQLite, PostgreSQL and the REST store. Over REST a version's package
manifest and an evaluation's plots must be stored blobs, so they are uploaded
through the server first.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable

import pytest

from shipyard.entities import Evaluation, ModelVersionStatus, Run
from shipyard.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from shipyard.store.base import Store
from shipyard.store.hashing import hash_bytes
from tests.store.conftest import unique

Blob = Callable[[bytes], str]
Package = Callable[[], str]

READY = ModelVersionStatus.READY
ARCHIVED = ModelVersionStatus.ARCHIVED


@pytest.fixture
def put_blob(store: Store) -> Blob:
    """Store bytes as a blob where the store checks blobs (REST, through the server)."""
    from shipyard.store.rest.store import RestStore

    def put(data: bytes) -> str:
        if isinstance(store, RestStore):
            from shipyard.store.rest.blobs import RestBlobStore

            blobs = RestBlobStore(store.base_url)
            try:
                return blobs.put(io.BytesIO(data))[0]
            finally:
                blobs.close()
        return hash_bytes(data)

    return put


@pytest.fixture
def package(put_blob: Blob) -> Package:
    """Store a new package manifest blob and return its digest."""
    return lambda: put_blob(f'{{"format":1,"note":"{unique("pkg")}"}}'.encode())


@pytest.fixture
def name() -> str:
    return unique("model")


def register(store: Store, name: str, package: Package, **kwargs: object) -> int:
    source = f"runs:/{'0' * 32}/model"
    version = store.create_model_version(name, source, package(), **kwargs)  # type: ignore[arg-type]
    return version.version


# -- registered models -----------------------------------------------------------
def test_create_and_get_a_registered_model(store: Store, name: str) -> None:
    created = store.create_registered_model(name, "digits classifier", {"team": "vision"})
    assert (created.name, created.description, created.tags) == (
        name,
        "digits classifier",
        {"team": "vision"},
    )
    assert (created.aliases, created.latest_version) == ({}, None)
    assert 0 < created.created_at <= created.updated_at
    assert store.get_registered_model(name) == created
    with pytest.raises(AlreadyExistsError, match=name):
        store.create_registered_model(name)
    with pytest.raises(NotFoundError, match=f"{name}-absent"):
        store.get_registered_model(f"{name}-absent")


def test_description_and_model_tags(store: Store, name: str) -> None:
    store.create_registered_model(name)
    assert store.update_registered_model(name, "first").description == "first"
    store.set_registered_model_tag(name, "team", "vision")
    store.set_registered_model_tag(name, "team", "ml")
    store.set_registered_model_tag(name, "owner", "ada")
    assert store.get_registered_model(name).tags == {"owner": "ada", "team": "ml"}
    store.delete_registered_model_tag(name, "team")
    assert store.get_registered_model(name).tags == {"owner": "ada"}
    assert store.update_registered_model(name, None).description is None
    with pytest.raises(NotFoundError, match="team"):
        store.delete_registered_model_tag(name, "team")
    with pytest.raises(NotFoundError):
        store.set_registered_model_tag(f"{name}-absent", "team", "ml")
    with pytest.raises(NotFoundError):
        store.update_registered_model(f"{name}-absent", "x")
    with pytest.raises(InvalidInputError):
        store.set_registered_model_tag(name, "bad key!", "x")


def all_model_names(store: Store, name_like: str | None, page_size: int = 1000) -> list[str]:
    names: list[str] = []
    token: str | None = None
    while True:
        page = store.list_registered_models(name_like, max_results=page_size, page_token=token)
        names.extend(m.name for m in page.items)
        token = page.next_page_token
        if token is None:
            return names


def test_list_registered_models_filters_and_pages_in_name_order(store: Store) -> None:
    prefix = unique("list")
    mine = [f"{prefix}-{suffix}" for suffix in ("b", "a", "C", "c", "a_b")]
    for model in mine:
        store.create_registered_model(model)

    assert all_model_names(store, f"{prefix}%", page_size=2) == sorted(mine)
    # Case-insensitive, and _ / % are wildcards unless escaped.
    assert all_model_names(store, f"{prefix.upper()}-C") == sorted([f"{prefix}-C", f"{prefix}-c"])
    assert all_model_names(store, f"{prefix}-a_b") == [f"{prefix}-a_b"]
    assert all_model_names(store, f"{prefix}-_") == sorted(
        [f"{prefix}-{s}" for s in ("C", "a", "b", "c")]
    )
    assert all_model_names(store, f"{prefix}-a\\_b") == [f"{prefix}-a_b"]
    assert all_model_names(store, f"{prefix}-zzz%") == []
    everything = all_model_names(store, None, page_size=3)
    assert set(mine) <= set(everything) and everything == sorted(everything)
    page = store.list_registered_models(max_results=1)
    assert len(page.items) == 1 and page.next_page_token is not None
    with pytest.raises(InvalidInputError):
        store.list_registered_models(max_results=0)
    with pytest.raises(InvalidInputError):
        store.list_registered_models(page_token="not a token")
    with pytest.raises(InvalidInputError):
        store.list_registered_models("ends-with-escape\\")


# -- versions --------------------------------------------------------------------
def test_versions_are_numbered_per_model_and_create_the_model(
    store: Store, package: Package, name: str, run: Run
) -> None:
    digest = package()
    first = store.create_model_version(
        name,
        f"runs:/{run.id}/model",
        digest,
        run_id=run.id,
        flavor="sklearn",
        description="baseline",
        tags={"stage": "dev"},
        user="ada",
    )
    second = store.create_model_version(name, f"runs:/{run.id}/model", package())
    other = store.create_model_version(unique("model"), "runs:/x/model", digest)

    assert (first.name, first.version, first.uri) == (name, 1, f"models:/{name}/1")
    assert (first.source, first.run_id, first.package_digest) == (
        f"runs:/{run.id}/model",
        run.id,
        digest,
    )
    assert (first.flavor, first.description, first.user) == ("sklearn", "baseline", "ada")
    assert (first.status, first.tags, first.aliases) == (READY, {"stage": "dev"}, [])
    assert 0 < first.created_at <= first.updated_at
    assert (second.version, second.flavor, second.run_id, second.tags) == (2, None, None, {})
    assert other.version == 1  # numbering is per model
    assert store.list_model_versions(name) == [first, second]
    assert store.get_model_version(name, 1) == first
    assert store.get_model_version(name, "1") == first
    model = store.get_registered_model(name)
    assert (model.latest_version, model.description) == (2, None)


def test_a_version_of_a_missing_run_is_refused(store: Store, package: Package, name: str) -> None:
    with pytest.raises(NotFoundError, match="f" * 32):
        store.create_model_version(name, "runs:/x/model", package(), run_id="f" * 32)
    with pytest.raises(NotFoundError):
        store.get_registered_model(name)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("source", ""),
        ("source", "runs:/a\nb"),
        ("source", None),
        ("package_digest", "not-a-digest"),
        ("package_digest", "A" * 64),
        ("flavor", "bad flavor!"),
        ("user", ""),
        ("tags", {"bad key!": "v"}),
        ("idempotency_key", "with space"),
    ],
)
def test_invalid_version_fields_are_refused(
    store: Store, package: Package, name: str, field: str, value: object
) -> None:
    fields: dict[str, object] = {"source": "runs:/x/model", "package_digest": package()}
    fields[field] = value
    with pytest.raises(InvalidInputError):
        store.create_model_version(name, **fields)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.get_registered_model(name)


def test_latest_is_the_newest_ready_version(store: Store, package: Package, name: str) -> None:
    for _ in range(3):
        register(store, name, package)
    archived = store.update_model_version(name, 3, status=ARCHIVED)
    assert archived.status is ARCHIVED and archived.version == 3

    assert store.get_model_version(name).version == 2
    assert store.get_model_version(name, "latest").version == 2
    assert store.get_model_version(name, 3) == archived  # a number finds it still
    assert store.get_registered_model(name).latest_version == 2
    assert [v.version for v in store.list_model_versions(name, READY)] == [1, 2]
    assert [v.version for v in store.list_model_versions(name, ARCHIVED)] == [3]
    assert [v.version for v in store.list_model_versions(name)] == [1, 2, 3]

    store.update_model_version(name, 1, status=ARCHIVED)
    store.update_model_version(name, 2, status=ARCHIVED)
    with pytest.raises(NotFoundError, match="no READY version"):
        store.get_model_version(name)
    assert store.get_registered_model(name).latest_version is None
    assert register(store, name, package) == 4  # numbers are never reused
    restored = store.update_model_version(name, 2, status=READY, description="back")
    assert (restored.status, restored.description) == (READY, "back")
    assert store.get_model_version(name).version == 4


def test_update_description_keeps_status(store: Store, package: Package, name: str) -> None:
    register(store, name, package)
    updated = store.update_model_version(name, 1, description="tuned")
    assert (updated.description, updated.status) == ("tuned", READY)
    assert store.update_model_version(name, 1).description == "tuned"  # nothing given
    with pytest.raises(InvalidInputError):
        store.update_model_version(name, 1, status="RETIRED")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="version 9"):
        store.update_model_version(name, 9, description="x")


def test_version_tags(store: Store, package: Package, name: str) -> None:
    register(store, name, package, tags={"a": "1"})
    store.set_model_version_tag(name, 1, "b", "2")
    store.set_model_version_tag(name, 1, "a", "3")
    assert store.get_model_version(name, 1).tags == {"a": "3", "b": "2"}
    store.delete_model_version_tag(name, 1, "a")
    assert store.get_model_version(name, 1).tags == {"b": "2"}
    with pytest.raises(NotFoundError, match="'a'"):
        store.delete_model_version_tag(name, 1, "a")
    with pytest.raises(NotFoundError, match="version 2"):
        store.set_model_version_tag(name, 2, "a", "1")


def test_missing_references_name_what_is_missing(store: Store, package: Package, name: str) -> None:
    register(store, name, package)
    with pytest.raises(NotFoundError, match="version 7"):
        store.get_model_version(name, 7)
    with pytest.raises(NotFoundError, match="'nope'"):
        store.get_model_version(name, "nope")
    with pytest.raises(NotFoundError, match=f"{name}-absent"):
        store.get_model_version(f"{name}-absent")
    with pytest.raises(NotFoundError, match=f"{name}-absent"):
        store.list_model_versions(f"{name}-absent")


@pytest.mark.parametrize("ref", [0, -1, "0", 2**40, "bad alias", "a/b", True, "x@y"])
def test_invalid_references_are_refused(
    store: Store, package: Package, name: str, ref: object
) -> None:
    register(store, name, package)
    with pytest.raises(InvalidInputError):
        store.get_model_version(name, ref)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", ["a/b", "a@b", "", "  ", "..", ".", "with space", "\ud800", "n" * 257, "ü", "a\n"]
)
def test_invalid_model_names_are_refused(store: Store, package: Package, bad: str) -> None:
    with pytest.raises(InvalidInputError):
        store.create_registered_model(bad)
    with pytest.raises(InvalidInputError):
        store.create_model_version(bad, "runs:/x/model", package())
    with pytest.raises(InvalidInputError):
        store.get_registered_model(bad)
    with pytest.raises(InvalidInputError):
        store.get_model_version(bad)


def test_valid_names_with_dots_dashes_underscores(store: Store, package: Package) -> None:
    name = f"{unique('Model')}_v.2-final"
    register(store, name, package)
    assert store.get_model_version(name).uri == f"models:/{name}/1"


# -- idempotency and concurrency -------------------------------------------------
def test_a_retried_create_is_applied_once(store: Store, package: Package, name: str) -> None:
    key = unique("key")
    digest = package()
    first = store.create_model_version(name, "runs:/x/model", digest, idempotency_key=key)
    again = store.create_model_version(name, "runs:/x/model", digest, idempotency_key=key)
    assert again == first
    assert len(store.list_model_versions(name)) == 1
    with pytest.raises(ConflictError):
        store.create_model_version(name, "runs:/x/model", package(), idempotency_key=key)
    assert len(store.list_model_versions(name)) == 1


def test_concurrent_creates_never_share_a_number(store: Store, package: Package, name: str) -> None:
    digests = [package() for _ in range(12)]
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(mine: list[str]) -> None:
        try:
            for digest in mine:
                version = store.create_model_version(name, "runs:/x/model", digest)
                with lock:
                    results.append(version.version)
        except BaseException as exc:  # reported below, with the test's own assertion
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(digests[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == list(range(1, 13))
    versions = store.list_model_versions(name)
    assert [v.version for v in versions] == list(range(1, 13))
    assert sorted(v.package_digest for v in versions) == sorted(digests)


# -- aliases ---------------------------------------------------------------------
def test_an_alias_moves_and_every_move_is_recorded(
    store: Store, package: Package, name: str
) -> None:
    for _ in range(3):
        register(store, name, package)

    first = store.set_model_alias(name, "production", 1, user="ada", reason="first release")
    assert (first.name, first.alias, first.from_version, first.to_version) == (
        name,
        "production",
        None,
        1,
    )
    assert (first.user, first.reason) == ("ada", "first release")
    moved = store.set_model_alias(name, "production", 2, user="bob", reason="beats v1")
    store.set_model_alias(name, "staging", 3)
    again = store.set_model_alias(name, "production", 2, user="eve", reason="no-op")
    assert again == moved  # nothing moved: nothing recorded

    assert store.get_model_version(name, "production").version == 2
    assert store.get_model_version(name, 2).aliases == ["production"]
    assert store.get_model_version(name, 1).aliases == []
    assert store.get_registered_model(name).aliases == {"production": 2, "staging": 3}
    assert [v.aliases for v in store.list_model_versions(name)] == [[], ["production"], ["staging"]]

    removed = store.delete_model_alias(name, "staging", user="ada", reason="cleanup")
    assert (removed.from_version, removed.to_version, removed.user, removed.reason) == (
        3,
        None,
        "ada",
        "cleanup",
    )
    events = store.list_alias_events(name)
    assert [(e.alias, e.from_version, e.to_version, e.user, e.reason) for e in events] == [
        ("production", None, 1, "ada", "first release"),
        ("production", 1, 2, "bob", "beats v1"),
        ("staging", None, 3, None, None),
        ("staging", 3, None, "ada", "cleanup"),
    ]
    assert events[0] == first and events[1] == moved and events[3] == removed
    assert len({e.id for e in events}) == 4
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    assert store.list_alias_events(name, "production") == events[:2]
    assert store.list_alias_events(name, "unused") == []

    with pytest.raises(NotFoundError, match="'staging'"):
        store.get_model_version(name, "staging")
    with pytest.raises(NotFoundError, match="'staging'"):
        store.delete_model_alias(name, "staging")
    assert store.get_registered_model(name).aliases == {"production": 2}


def test_aliases_and_archived_versions_exclude_each_other(
    store: Store, package: Package, name: str
) -> None:
    register(store, name, package)
    register(store, name, package)
    store.set_model_alias(name, "champion", 1)
    store.set_model_alias(name, "backup", 1)

    with pytest.raises(ConflictError, match="'backup', 'champion'"):
        store.update_model_version(name, 1, status=ARCHIVED, description="changed")
    assert store.get_model_version(name, 1).status is READY
    assert store.get_model_version(name, 1).description is None  # nothing of it applied

    store.update_model_version(name, 2, status=ARCHIVED)
    with pytest.raises(ConflictError, match="archived"):
        store.set_model_alias(name, "champion", 2)
    assert store.get_model_version(name, "champion").version == 1
    assert len(store.list_alias_events(name)) == 2

    store.delete_model_alias(name, "backup")
    store.delete_model_alias(name, "champion")
    assert store.update_model_version(name, 1, status=ARCHIVED).status is ARCHIVED


def test_alias_on_missing_things(store: Store, package: Package, name: str) -> None:
    register(store, name, package)
    with pytest.raises(NotFoundError, match="version 5"):
        store.set_model_alias(name, "champion", 5)
    with pytest.raises(NotFoundError, match=f"{name}-absent"):
        store.set_model_alias(f"{name}-absent", "champion", 1)
    with pytest.raises(NotFoundError):
        store.list_alias_events(f"{name}-absent")
    assert store.list_alias_events(name) == []


@pytest.mark.parametrize(
    "alias", ["latest", "12", "", "..", "with space", "a/b", "x@y", "\ud800", "t" * 251, "a\n"]
)
def test_invalid_aliases_are_refused(store: Store, package: Package, name: str, alias: str) -> None:
    register(store, name, package)
    with pytest.raises(InvalidInputError):
        store.set_model_alias(name, alias, 1)
    with pytest.raises(InvalidInputError):
        store.delete_model_alias(name, alias)
    assert store.list_alias_events(name) == []


# -- evaluations -----------------------------------------------------------------
def log_evaluation(
    store: Store, name: str, version: int | None, put_blob: Blob, **kwargs: object
) -> Evaluation:
    plot = put_blob(unique("png").encode())
    fields: dict[str, object] = {
        "model_uri": f"models:/{name}/{version}",
        "task": "classification",
        "target": "label",
        "metrics": {"accuracy": 0.9},
        "details": {},
        "plots": {"confusion_matrix.png": plot},
        "row_count": 10,
        "model_name": name,
        "model_version": version,
        **kwargs,
    }
    return store.log_evaluation(**fields)  # type: ignore[arg-type]


def test_evaluations_round_trip(store: Store, package: Package, put_blob: Blob, name: str) -> None:
    register(store, name, package)
    register(store, name, package)
    dataset = unique("ds")
    manifest = put_blob(f'{{"files":[],"note":"{unique("m")}"}}'.encode())
    store.create_dataset_version(dataset, manifest, 1, 1)
    plot = put_blob(unique("png").encode())
    details = {
        "labels": ["0", "1", "2"],
        "confusion_matrix": [[5, 1, 0], [0, 6, 0], [1, 0, 7]],
        "per_class": {"0": {"precision": 0.83, "support": 6}, "2": {"recall": None}},
        "nested": [[[1.5, -2]], [], [{"k": [True, False, None]}]],
        "unicode": "größe ✓",
    }
    evaluation = store.log_evaluation(
        model_uri=f"models:/{name}/1",
        task="classification",
        target="label",
        metrics={"accuracy": 0.95, "f1_macro": 0.9, "undefined": math.nan, "ratio": math.inf},
        details=details,
        plots={"confusion_matrix.png": plot},
        row_count=20,
        model_name=name,
        model_version=1,
        dataset=dataset,
        dataset_version=1,
        user="ada",
    )
    assert len(evaluation.id) == 32 and evaluation.created_at > 0
    assert (evaluation.model_uri, evaluation.model_name, evaluation.model_version) == (
        f"models:/{name}/1",
        name,
        1,
    )
    assert (evaluation.dataset, evaluation.dataset_version) == (dataset, 1)
    assert (evaluation.task, evaluation.target, evaluation.row_count, evaluation.user) == (
        "classification",
        "label",
        20,
        "ada",
    )
    assert evaluation.details == details
    assert evaluation.plots == {"confusion_matrix.png": plot}
    assert list(evaluation.metrics) == ["accuracy", "f1_macro", "undefined", "ratio"]
    assert evaluation.metrics["accuracy"] == 0.95 and evaluation.metrics["ratio"] == math.inf
    assert math.isnan(evaluation.metrics["undefined"])

    fetched = store.get_evaluation(evaluation.id)
    assert fetched.details == details and fetched.plots == evaluation.plots
    assert math.isnan(fetched.metrics["undefined"])
    assert {k: v for k, v in fetched.metrics.items() if k != "undefined"} == {
        "accuracy": 0.95,
        "f1_macro": 0.9,
        "ratio": math.inf,
    }

    second = log_evaluation(store, name, 2, put_blob)
    third = log_evaluation(store, name, 1, put_blob)
    assert [e.id for e in store.list_evaluations(name)] == [third.id, second.id, evaluation.id]
    assert [e.id for e in store.list_evaluations(name, 1)] == [third.id, evaluation.id]
    with pytest.raises(NotFoundError):
        store.list_evaluations(f"{name}-absent")


def test_evaluations_refuse_bad_input_and_missing_links(
    store: Store, package: Package, put_blob: Blob, name: str
) -> None:
    register(store, name, package)
    with pytest.raises(NotFoundError, match="version 4"):
        log_evaluation(store, name, 4, put_blob)
    with pytest.raises(NotFoundError, match=f"{name}-absent"):
        log_evaluation(store, f"{name}-absent", 1, put_blob)
    with pytest.raises(NotFoundError, match="no-such-ds"):
        log_evaluation(store, name, 1, put_blob, dataset="no-such-ds", dataset_version=1)
    with pytest.raises(InvalidInputError):
        log_evaluation(store, name, 1, put_blob, details={"mean": math.nan})
    with pytest.raises(InvalidInputError):
        log_evaluation(store, name, 1, put_blob, plots={"a.png": "not-a-digest"})
    with pytest.raises(InvalidInputError):
        log_evaluation(store, name, 1, put_blob, metrics={"acc": "high"})
    with pytest.raises(InvalidInputError):
        log_evaluation(store, name, 1, put_blob, row_count=-1)
    with pytest.raises(InvalidInputError):
        log_evaluation(store, name, 1, put_blob, model_name=None)  # a version without a model
    assert store.list_evaluations(name) == []
    with pytest.raises(NotFoundError, match="0" * 32):
        store.get_evaluation("0" * 32)

    unregistered = log_evaluation(
        store, name, None, put_blob, model_name=None, model_uri="runs:/abc/model"
    )
    assert unregistered.model_name is None
    assert store.list_evaluations(name) == []


# -- promotion decisions ---------------------------------------------------------
def test_promotion_decisions_round_trip_newest_first(
    store: Store, package: Package, put_blob: Blob, name: str
) -> None:
    register(store, name, package)
    register(store, name, package)
    incumbent = log_evaluation(store, name, 1, put_blob)
    candidate = log_evaluation(store, name, 2, put_blob)

    first = store.log_promotion_decision(
        name,
        "production",
        candidate_version=1,
        incumbent_version=None,
        metric="accuracy",
        greater_is_better=True,
        candidate_score=0.9,
        incumbent_score=None,
        min_delta=0.0,
        thresholds={},
        promoted=True,
        reason="no incumbent",
        candidate_evaluation_id=incumbent.id,
        incumbent_evaluation_id=None,
    )
    second = store.log_promotion_decision(
        name,
        "production",
        candidate_version=2,
        incumbent_version=1,
        metric="rmse",
        greater_is_better=False,
        candidate_score=0.25,
        incumbent_score=0.3,
        min_delta=0.01,
        thresholds={"accuracy": 0.8, "f1": 0.75},
        promoted=False,
        reason="accuracy 0.79 < 0.8",
        candidate_evaluation_id=candidate.id,
        incumbent_evaluation_id=incumbent.id,
        user="gate",
    )
    staging = store.log_promotion_decision(
        name,
        "staging",
        2,
        None,
        "accuracy",
        True,
        1,
        None,
        0,
        {},
        True,
        "ok",
        candidate.id,
        None,
    )
    assert (second.name, second.alias, second.candidate_version, second.incumbent_version) == (
        name,
        "production",
        2,
        1,
    )
    assert (second.metric, second.greater_is_better, second.promoted, second.user) == (
        "rmse",
        False,
        False,
        "gate",
    )
    assert (second.candidate_score, second.incumbent_score, second.min_delta) == (0.25, 0.3, 0.01)
    assert second.thresholds == {"accuracy": 0.8, "f1": 0.75}
    assert second.reason == "accuracy 0.79 < 0.8"
    assert second.candidate_evaluation_id == candidate.id
    assert second.incumbent_evaluation_id == incumbent.id
    assert (staging.candidate_score, staging.min_delta) == (1.0, 0.0)
    assert len(second.id) == 32 and second.created_at >= first.created_at

    assert store.list_promotion_decisions(name) == [staging, second, first]
    assert store.list_promotion_decisions(name, "production") == [second, first]
    assert store.list_promotion_decisions(name, "canary") == []
    assert store.get_registered_model(name).aliases == {}  # a decision moves no alias


def test_promotion_decisions_refuse_bad_input(
    store: Store, package: Package, put_blob: Blob, name: str
) -> None:
    register(store, name, package)
    evaluation = log_evaluation(store, name, 1, put_blob)
    fields: dict[str, object] = {
        "name": name,
        "alias": "production",
        "candidate_version": 1,
        "incumbent_version": None,
        "metric": "accuracy",
        "greater_is_better": True,
        "candidate_score": 0.9,
        "incumbent_score": None,
        "min_delta": 0.0,
        "thresholds": {},
        "promoted": True,
        "reason": "ok",
        "candidate_evaluation_id": evaluation.id,
        "incumbent_evaluation_id": None,
    }
    for bad, error in [
        ({"candidate_version": 3}, NotFoundError),
        ({"incumbent_version": 3}, NotFoundError),
        ({"candidate_evaluation_id": "f" * 32}, NotFoundError),
        ({"name": f"{name}-absent"}, NotFoundError),
        ({"alias": "latest"}, InvalidInputError),
        ({"candidate_score": math.nan}, InvalidInputError),
        ({"thresholds": {"accuracy": math.inf}}, InvalidInputError),
        ({"greater_is_better": "yes"}, InvalidInputError),
    ]:
        with pytest.raises(error):
            store.log_promotion_decision(**{**fields, **bad})  # type: ignore[arg-type]
    assert store.list_promotion_decisions(name) == []


# -- garbage collection ----------------------------------------------------------
def test_packages_and_plots_are_referenced(
    store: Store, package: Package, put_blob: Blob, name: str
) -> None:
    kept, archived = package(), package()
    store.create_model_version(name, "runs:/x/model", kept)
    store.create_model_version(name, "runs:/x/model", archived)
    store.update_model_version(name, 2, status=ARCHIVED)
    plot = put_blob(unique("plot").encode())
    log_evaluation(store, name, 1, put_blob, plots={"roc.png": plot})

    model_digests = store.model_referenced_digests()
    assert {kept, archived, plot} <= model_digests  # archived versions are kept, not deleted
    assert {kept, archived, plot} <= store.referenced_digests()
    assert not {kept, archived, plot} & store.live_manifest_digests()


def test_numpy_scores_are_plain_numbers(
    store: Store, package: Package, put_blob: Blob, name: str
) -> None:
    np = pytest.importorskip("numpy")
    register(store, name, package)
    evaluation = log_evaluation(
        store, name, 1, put_blob, metrics={"a": np.float32(0.5), "b": np.float64(0.25)}
    )
    assert evaluation.metrics == {"a": 0.5, "b": 0.25}
    decision = store.log_promotion_decision(
        name,
        "production",
        1,
        None,
        "a",
        True,
        np.float32(0.5),
        None,
        np.float64(0.0),
        {"b": np.float32(0.25)},
        True,
        "ok",
        evaluation.id,
        None,
    )
    assert (decision.candidate_score, decision.min_delta, decision.thresholds) == (
        0.5,
        0.0,
        {"b": 0.25},
    )
    assert all(type(v) is float for v in decision.thresholds.values())
