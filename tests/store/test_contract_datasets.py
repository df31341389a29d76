"""Store contract: dataset versions, labels, soft delete, profiles, lineage and gc references.

Runs on SQLite, PostgreSQL and the REST store. Over REST a version's manifest
must be a stored blob, so manifests are uploaded through the server first.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable

import pytest

from shipyard.entities import ArtifactEntry, LifecycleStage, Run, ViewType
from shipyard.errors import ConflictError, InvalidInputError, NotFoundError
from shipyard.store.base import Store
from shipyard.store.hashing import hash_bytes
from tests.store.conftest import unique

Manifest = Callable[[str], str]


@pytest.fixture
def put_blob(store: Store) -> Callable[[bytes], str]:
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
def manifest(put_blob: Callable[[bytes], str]) -> Manifest:
    """Store a small manifest blob and return its digest."""
    return lambda content: put_blob(f'{{"files":[],"note":"{content}"}}'.encode())


@pytest.fixture
def name() -> str:
    return unique("ds")


def add(store: Store, name: str, digest: str, **kwargs: object) -> int:
    version, created = store.create_dataset_version(name, digest, 3, 300, **kwargs)  # type: ignore[arg-type]
    assert created
    return version.version


# -- versions ------------------------------------------------------------------
def test_versions_are_numbered_per_dataset_with_parents(
    store: Store, manifest: Manifest, name: str
) -> None:
    first, created = store.create_dataset_version(
        name,
        manifest("a"),
        file_count=2,
        total_size=2048,
        message="first import",
        author="ada",
        profile={"rows": 10},
    )
    second, _ = store.create_dataset_version(name, manifest("b"), 3, 4096)
    other, _ = store.create_dataset_version(unique("ds"), manifest("a"), 2, 2048)

    assert created
    assert (first.dataset, first.version, first.parent_version) == (name, 1, None)
    assert (first.file_count, first.total_size, first.message, first.author) == (
        2,
        2048,
        "first import",
        "ada",
    )
    assert first.manifest_digest == manifest("a")
    assert first.profile == {"rows": 10}
    assert first.lifecycle_stage is LifecycleStage.ACTIVE
    assert first.uri == f"datasets:/{name}/1"
    assert len(first.id) == 32
    assert (second.version, second.parent_version, second.message, second.profile) == (
        2,
        1,
        None,
        None,
    )
    assert other.version == 1  # numbering is per dataset
    assert store.list_dataset_versions(name) == [first, second]
    assert store.get_dataset_version(name, 1) == first


def test_unchanged_content_creates_no_version(store: Store, manifest: Manifest, name: str) -> None:
    first, _ = store.create_dataset_version(name, manifest("a"), 1, 10)
    again, created = store.create_dataset_version(name, manifest("a"), 1, 10, message="again")

    assert not created
    assert again == first
    assert [v.version for v in store.list_dataset_versions(name)] == [1]


def test_unchanged_is_judged_against_the_latest_version_only(
    store: Store, manifest: Manifest, name: str
) -> None:
    add(store, name, manifest("a"))
    add(store, name, manifest("b"))
    back, created = store.create_dataset_version(name, manifest("a"), 3, 300)
    assert created
    assert (back.version, back.parent_version) == (3, 2)


def test_get_dataset(store: Store, manifest: Manifest, name: str) -> None:
    add(store, name, manifest("a"))
    add(store, name, manifest("b"))
    dataset = store.get_dataset(name)
    assert (dataset.name, dataset.latest_version, dataset.lifecycle_stage) == (
        name,
        2,
        LifecycleStage.ACTIVE,
    )
    assert dataset.created_at <= dataset.updated_at
    assert dataset.description is None and dataset.tags == {}
    with pytest.raises(NotFoundError, match="no-such-dataset"):
        store.get_dataset(f"{name}-no-such-dataset")


def test_description_and_dataset_tags(store: Store, manifest: Manifest, name: str) -> None:
    add(store, name, manifest("a"))
    assert store.set_dataset_description(name, "digits").description == "digits"
    store.set_dataset_tag(name, "team", "vision")
    store.set_dataset_tag(name, "team", "ml")
    assert store.get_dataset(name).tags == {"team": "ml"}
    store.delete_dataset_tag(name, "team")
    assert store.get_dataset(name).tags == {}
    assert store.set_dataset_description(name, None).description is None
    with pytest.raises(NotFoundError):
        store.delete_dataset_tag(name, "team")
    with pytest.raises(NotFoundError):
        store.set_dataset_tag(f"{name}-missing", "team", "ml")


# -- references ----------------------------------------------------------------
def test_references_resolve_latest_numbers_and_tags(
    store: Store, manifest: Manifest, name: str
) -> None:
    add(store, name, manifest("a"), tags=["golden"])
    add(store, name, manifest("b"))

    assert store.get_dataset_version(name).version == 2
    assert store.get_dataset_version(name, None).version == 2
    assert store.get_dataset_version(name, "latest").version == 2
    assert store.get_dataset_version(name, 1).version == 1
    assert store.get_dataset_version(name, "1").version == 1
    assert store.get_dataset_version(name, "golden").version == 1


def test_missing_references_name_what_is_missing(
    store: Store, manifest: Manifest, name: str
) -> None:
    add(store, name, manifest("a"))
    with pytest.raises(NotFoundError, match="version 7"):
        store.get_dataset_version(name, 7)
    with pytest.raises(NotFoundError, match="'nope'"):
        store.get_dataset_version(name, "nope")
    with pytest.raises(NotFoundError, match=f"{name}-absent"):
        store.get_dataset_version(f"{name}-absent")


@pytest.mark.parametrize("ref", [0, -1, "0", 2**40, "bad tag", "a/b", True])
def test_invalid_references_are_refused(
    store: Store, manifest: Manifest, name: str, ref: object
) -> None:
    add(store, name, manifest("a"))
    with pytest.raises(InvalidInputError):
        store.get_dataset_version(name, ref)  # type: ignore[arg-type]


# -- version tags --------------------------------------------------------------
def test_a_tag_names_one_version_and_moves(store: Store, manifest: Manifest, name: str) -> None:
    add(store, name, manifest("a"), tags=["v1", "golden"])
    add(store, name, manifest("b"))
    assert store.get_dataset_version(name, 1).tags == ["golden", "v1"]

    store.tag_dataset_version(name, 2, "golden")
    assert store.get_dataset_version(name, "golden").version == 2
    assert store.get_dataset_version(name, 1).tags == ["v1"]
    assert store.get_dataset_version(name, 2).tags == ["golden"]

    store.tag_dataset_version(name, 2, "golden")  # again: nothing changes
    assert [v.tags for v in store.list_dataset_versions(name)] == [["v1"], ["golden"]]

    add(store, name, manifest("c"), tags=["golden"])  # a new version can take it
    assert store.get_dataset_version(name, "golden").version == 3


def test_untag(store: Store, manifest: Manifest, name: str) -> None:
    add(store, name, manifest("a"), tags=["golden"])
    store.untag_dataset_version(name, "golden")
    assert store.get_dataset_version(name, 1).tags == []
    with pytest.raises(NotFoundError, match="golden"):
        store.get_dataset_version(name, "golden")
    with pytest.raises(NotFoundError):
        store.untag_dataset_version(name, "golden")


def test_unchanged_content_still_takes_the_tags_given(
    store: Store, manifest: Manifest, name: str
) -> None:
    add(store, name, manifest("a"))
    version, created = store.create_dataset_version(name, manifest("a"), 3, 300, tags=["keep"])
    assert not created
    assert version.tags == ["keep"]
    assert store.get_dataset_version(name, "keep").version == 1


@pytest.mark.parametrize("tag", ["latest", "12", "", "..", "with space", "a/b", "x@y", "t" * 251])
def test_invalid_tags_are_refused(store: Store, manifest: Manifest, name: str, tag: str) -> None:
    add(store, name, manifest("a"))
    with pytest.raises(InvalidInputError):
        store.tag_dataset_version(name, 1, tag)
    with pytest.raises(InvalidInputError):
        store.create_dataset_version(name, manifest("b"), 1, 1, tags=[tag])
    assert [v.version for v in store.list_dataset_versions(name)] == [1]


def test_tagging_what_is_missing_or_deleted(store: Store, manifest: Manifest, name: str) -> None:
    add(store, name, manifest("a"))
    add(store, name, manifest("b"))
    with pytest.raises(NotFoundError):
        store.tag_dataset_version(name, 9, "golden")
    with pytest.raises(NotFoundError):
        store.tag_dataset_version(f"{name}-absent", 1, "golden")
    store.delete_dataset_version(name, 2)
    with pytest.raises(ConflictError):
        store.tag_dataset_version(name, 2, "golden")


# -- soft delete ---------------------------------------------------------------
def test_latest_skips_deleted_versions(store: Store, manifest: Manifest, name: str) -> None:
    add(store, name, manifest("a"))
    add(store, name, manifest("b"), tags=["golden"])
    store.delete_dataset_version(name, 2)

    assert store.get_dataset_version(name).version == 1
    assert store.get_dataset(name).latest_version == 1
    deleted = store.get_dataset_version(name, 2)  # by number or tag it is still there
    assert deleted.lifecycle_stage is LifecycleStage.DELETED
    assert store.get_dataset_version(name, "golden") == deleted
    assert [v.version for v in store.list_dataset_versions(name)] == [1]
    assert [v.version for v in store.list_dataset_versions(name, ViewType.DELETED)] == [2]
    assert [v.version for v in store.list_dataset_versions(name, ViewType.ALL)] == [1, 2]

    # Numbers are never reused; the parent and "unchanged" follow the latest live version.
    same, created = store.create_dataset_version(name, manifest("a"), 3, 300)
    assert not created and same.version == 1
    third, _ = store.create_dataset_version(name, manifest("b"), 3, 300)
    assert (third.version, third.parent_version) == (3, 1)

    store.restore_dataset_version(name, 2)
    assert store.get_dataset_version(name, 2).lifecycle_stage is LifecycleStage.ACTIVE
    assert store.get_dataset_version(name).version == 3


def test_a_dataset_without_live_versions_is_deleted(
    store: Store, manifest: Manifest, name: str
) -> None:
    add(store, name, manifest("a"))
    store.delete_dataset_version(name, 1)
    dataset = store.get_dataset(name)
    assert (dataset.lifecycle_stage, dataset.latest_version) == (LifecycleStage.DELETED, None)
    with pytest.raises(NotFoundError, match="no live version"):
        store.get_dataset_version(name)
    assert name in all_dataset_names(store, ViewType.DELETED)
    assert name not in all_dataset_names(store, ViewType.ACTIVE)

    again, created = store.create_dataset_version(name, manifest("a"), 3, 300)
    assert created and (again.version, again.parent_version) == (2, None)
    assert store.get_dataset(name).lifecycle_stage is LifecycleStage.ACTIVE


def test_deleting_what_is_missing(store: Store, manifest: Manifest, name: str) -> None:
    add(store, name, manifest("a"))
    with pytest.raises(NotFoundError):
        store.delete_dataset_version(name, 5)
    with pytest.raises(NotFoundError):
        store.restore_dataset_version(f"{name}-absent", 1)
    with pytest.raises(InvalidInputError):
        store.delete_dataset_version(name, 0)


# -- listing -------------------------------------------------------------------
def all_dataset_names(store: Store, view: ViewType, page_size: int = 1000) -> list[str]:
    names: list[str] = []
    token: str | None = None
    while True:
        page = store.list_datasets(view, max_results=page_size, page_token=token)
        names.extend(d.name for d in page.items)
        token = page.next_page_token
        if token is None:
            return names


def test_list_datasets_pages_in_name_order(store: Store, manifest: Manifest) -> None:
    prefix = unique("list")
    mine = [f"{prefix}-{suffix}" for suffix in ("b", "a", "C", "c")]
    for dataset in mine:
        add(store, dataset, manifest("a"))
    names = all_dataset_names(store, ViewType.ACTIVE, page_size=2)
    assert len(names) == len(set(names))
    assert [n for n in names if n.startswith(prefix)] == sorted(mine)
    assert names == sorted(names)
    assert set(mine) <= set(all_dataset_names(store, ViewType.ALL))
    page = store.list_datasets(max_results=1)
    assert len(page.items) == 1 and page.next_page_token is not None
    with pytest.raises(InvalidInputError):
        store.list_datasets(max_results=0)
    with pytest.raises(InvalidInputError):
        store.list_datasets(page_token="not a token")


# -- profiles ------------------------------------------------------------------
def test_profiles_are_set_after_commit(store: Store, manifest: Manifest, name: str) -> None:
    add(store, name, manifest("a"))
    profile = {
        "rows": 150,
        "columns": {
            "sepal_length": {"type": "float", "missing": 0.0, "mean": 5.84, "hist": [1, 2, 3]},
            "species": {"type": "string", "top": [["setosa", 50]], "std": None},
        },
    }
    store.set_dataset_version_profile(name, 1, profile)
    assert store.get_dataset_version(name, 1).profile == profile
    store.set_dataset_version_profile(name, 1, {"rows": 1})
    assert store.get_dataset_version(name, 1).profile == {"rows": 1}
    with pytest.raises(InvalidInputError):
        store.set_dataset_version_profile(name, 1, {"mean": math.nan})
    with pytest.raises(InvalidInputError):
        store.create_dataset_version(name, manifest("b"), 1, 1, profile={"max": math.inf})
    with pytest.raises(NotFoundError):
        store.set_dataset_version_profile(name, 2, {"rows": 1})
    assert store.get_dataset_version(name, 1).profile == {"rows": 1}


# -- input checks --------------------------------------------------------------
@pytest.mark.parametrize(
    "bad", ["a/b", "a@b", "", "  ", "..", ".", "with space", "tab\tname", "n" * 257, "ü"]
)
def test_invalid_dataset_names_are_refused(store: Store, manifest: Manifest, bad: str) -> None:
    with pytest.raises(InvalidInputError):
        store.create_dataset_version(bad, manifest("a"), 1, 1)
    with pytest.raises(InvalidInputError):
        store.get_dataset(bad)
    with pytest.raises(InvalidInputError):
        store.get_dataset_version(bad)


def test_valid_names_with_dots_dashes_underscores(store: Store, manifest: Manifest) -> None:
    name = f"{unique('Ds')}_v.2-final"
    add(store, name, manifest("a"))
    assert store.get_dataset_version(name).uri == f"datasets:/{name}/1"


@pytest.mark.parametrize(
    ("digest", "file_count", "total_size"),
    [("not-a-digest", 1, 1), ("A" * 64, 1, 1), (None, 1, 1), ("ok", -1, 1), ("ok", 1, True)],
)
def test_invalid_version_fields_are_refused(
    store: Store,
    manifest: Manifest,
    name: str,
    digest: str | None,
    file_count: int,
    total_size: int,
) -> None:
    real = manifest("a") if digest == "ok" else digest
    with pytest.raises(InvalidInputError):
        store.create_dataset_version(name, real, file_count, total_size)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.get_dataset(name)


# -- idempotency and concurrency -----------------------------------------------
def test_a_retried_create_is_applied_once(store: Store, manifest: Manifest, name: str) -> None:
    key = unique("key")
    first, created = store.create_dataset_version(name, manifest("a"), 1, 1, idempotency_key=key)
    again, created_again = store.create_dataset_version(
        name, manifest("a"), 1, 1, idempotency_key=key
    )
    assert created and created_again
    assert again == first
    assert len(store.list_dataset_versions(name)) == 1
    with pytest.raises(ConflictError):
        store.create_dataset_version(name, manifest("b"), 1, 1, idempotency_key=key)


def test_concurrent_creates_never_share_a_number(
    store: Store, manifest: Manifest, name: str
) -> None:
    digests = [manifest(f"c{i}") for i in range(12)]
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(mine: list[str]) -> None:
        try:
            for digest in mine:
                version, created = store.create_dataset_version(name, digest, 1, 1)
                assert created
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
    versions = store.list_dataset_versions(name)
    assert sorted(v.manifest_digest for v in versions) == sorted(digests)
    parents = sorted(v.parent_version for v in versions if v.parent_version is not None)
    assert parents == list(range(1, 12))  # a chain: each version follows the one before


# -- lineage -------------------------------------------------------------------
def test_lineage_both_ways(
    store: Store, manifest: Manifest, name: str, make_run: Callable[..., Run]
) -> None:
    other = unique("ds")
    add(store, name, manifest("a"))
    add(store, name, manifest("b"))
    add(store, other, manifest("a"))
    first, second = make_run(), make_run()

    store.log_run_inputs(first.id, [(name, 2), (other, 1)])
    store.log_run_inputs(first.id, [(name, 2)])  # again: stored once
    store.log_run_inputs(second.id, [(name, 2), (name, 1), (name, 2)])

    inputs = store.get_run_inputs(first.id)
    assert [(i.run_id, i.dataset, i.version) for i in inputs] == sorted(
        [(first.id, name, 2), (first.id, other, 1)], key=lambda item: (item[1], item[2])
    )
    assert all(i.created_at > 0 for i in inputs)
    assert [(i.dataset, i.version) for i in store.get_run_inputs(second.id)] == [
        (name, 1),
        (name, 2),
    ]
    assert sorted(store.get_dataset_version_runs(name, 2)) == sorted([first.id, second.id])
    assert store.get_dataset_version_runs(name, 1) == [second.id]
    assert store.get_dataset_version_runs(other, 1) == [first.id]
    assert store.get_run_inputs(make_run().id) == []


def test_lineage_of_missing_and_deleted_things(
    store: Store, manifest: Manifest, name: str, make_run: Callable[..., Run]
) -> None:
    add(store, name, manifest("a"))
    run = make_run()
    with pytest.raises(NotFoundError, match="version 4"):
        store.log_run_inputs(run.id, [(name, 4)])
    with pytest.raises(NotFoundError):
        store.log_run_inputs(run.id, [(f"{name}-absent", 1)])
    with pytest.raises(NotFoundError):
        store.log_run_inputs("0" * 32, [(name, 1)])
    with pytest.raises(NotFoundError):
        store.get_run_inputs("0" * 32)
    with pytest.raises(NotFoundError):
        store.get_dataset_version_runs(name, 4)
    with pytest.raises(InvalidInputError):
        store.log_run_inputs(run.id, [("a/b", 1)])
    assert store.get_run_inputs(run.id) == []  # nothing of a refused call is stored

    store.log_run_inputs(run.id, [(name, 1)])
    store.delete_run(run.id)
    assert store.get_dataset_version_runs(name, 1) == []  # deleted runs are not consumers
    with pytest.raises(ConflictError):
        store.log_run_inputs(run.id, [(name, 1)])


# -- garbage collection --------------------------------------------------------
def test_referenced_digests(
    store: Store,
    manifest: Manifest,
    put_blob: Callable[[bytes], str],
    name: str,
    make_run: Callable[..., Run],
) -> None:
    kept, dropped, shared = manifest(unique("k")), manifest(unique("d")), manifest(unique("s"))
    content = unique("artifact").encode()
    artifact = put_blob(content)
    add(store, name, kept)
    add(store, name, dropped)
    add(store, name, shared)
    add(store, unique("ds"), shared)
    store.delete_dataset_version(name, 2)
    store.delete_dataset_version(name, 3)  # its manifest is still live in the other dataset
    run = make_run()
    store.log_artifacts(run.id, [ArtifactEntry("model.bin", len(content), artifact)])

    referenced = store.referenced_digests()
    manifests = store.live_manifest_digests()
    assert {kept, shared, artifact} <= referenced
    assert dropped not in referenced
    assert {kept, shared} <= manifests
    assert artifact not in manifests and dropped not in manifests
    assert manifests <= referenced

    store.restore_dataset_version(name, 2)
    assert dropped in store.live_manifest_digests()
