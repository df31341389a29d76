"""Store contract: experiments (create, read, list with pages, rename, delete, tags)."""

from __future__ import annotations

import pytest

from shipyard.entities import LifecycleStage, ViewType
from shipyard.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from shipyard.store.base import Store
from tests.store.conftest import unique


def test_create_and_read_back(store: Store) -> None:
    name = unique()
    created = store.create_experiment(name, tags={"team": "vision", "note": "first try"})

    assert len(created.id) == 32
    assert created.name == name
    assert created.lifecycle_stage is LifecycleStage.ACTIVE
    assert created.tags == {"team": "vision", "note": "first try"}
    assert created.created_at == created.updated_at > 0
    assert store.get_experiment(created.id) == created
    assert store.get_experiment_by_name(name) == created


def test_names_are_unique_across_active_and_deleted(store: Store) -> None:
    name = unique()
    experiment = store.create_experiment(name)
    with pytest.raises(AlreadyExistsError, match=name):
        store.create_experiment(name)
    store.delete_experiment(experiment.id)
    with pytest.raises(AlreadyExistsError, match=name):
        store.create_experiment(name)
    # A deleted experiment is still found by its name.
    assert store.get_experiment_by_name(name).lifecycle_stage is LifecycleStage.DELETED


def test_missing_experiments_are_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.get_experiment("0" * 32)
    with pytest.raises(NotFoundError):
        store.get_experiment_by_name(unique("never-created"))
    with pytest.raises(NotFoundError):
        store.delete_experiment("f" * 32)
    with pytest.raises(NotFoundError):
        store.rename_experiment("f" * 32, unique())


@pytest.mark.parametrize("bad_name", ["", "   ", "tab\tinside", "x" * 257])
def test_bad_experiment_names_are_refused(store: Store, bad_name: str) -> None:
    with pytest.raises(InvalidInputError):
        store.create_experiment(bad_name)


def test_bad_experiment_tags_are_refused(store: Store) -> None:
    with pytest.raises(InvalidInputError):
        store.create_experiment(unique(), tags={"bad key!": "v"})
    with pytest.raises(InvalidInputError):
        store.create_experiment(unique(), tags={"k": "v" * 8001})


def test_list_pages_through_every_experiment_in_name_order(store: Store) -> None:
    prefix = unique("paged")
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in reversed(names):
        store.create_experiment(name)

    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = store.list_experiments(view=ViewType.ALL, max_results=2, page_token=token)
        assert len(page.items) <= 2
        seen.extend(e.name for e in page.items)
        pages += 1
        token = page.next_page_token
        if token is None:
            break
    mine = [name for name in seen if name.startswith(prefix)]
    assert mine == names
    assert len(seen) == len(set(seen))
    assert pages >= 3


def test_list_views_follow_the_lifecycle(store: Store) -> None:
    kept = store.create_experiment(unique())
    dropped = store.create_experiment(unique())
    store.delete_experiment(dropped.id)

    def names(view: ViewType) -> set[str]:
        return {e.name for e in store.list_experiments(view=view, max_results=10_000).items}

    assert kept.name in names(ViewType.ACTIVE)
    assert dropped.name not in names(ViewType.ACTIVE)
    assert dropped.name in names(ViewType.DELETED)
    assert kept.name not in names(ViewType.DELETED)
    assert {kept.name, dropped.name} <= names(ViewType.ALL)

    store.restore_experiment(dropped.id)
    assert dropped.name in names(ViewType.ACTIVE)
    assert store.get_experiment(dropped.id).lifecycle_stage is LifecycleStage.ACTIVE


def test_list_refuses_bad_page_tokens_and_sizes(store: Store) -> None:
    with pytest.raises(InvalidInputError):
        store.list_experiments(page_token="not a token")
    with pytest.raises(InvalidInputError):
        store.list_experiments(max_results=0)
    with pytest.raises(InvalidInputError):
        store.list_experiments(max_results=10_001)


def test_rename(store: Store) -> None:
    experiment = store.create_experiment(unique())
    other = store.create_experiment(unique())
    new_name = unique("renamed")

    renamed = store.rename_experiment(experiment.id, new_name)

    assert renamed.name == new_name
    assert renamed.id == experiment.id
    assert store.get_experiment_by_name(new_name).id == experiment.id
    with pytest.raises(NotFoundError):
        store.get_experiment_by_name(experiment.name)
    with pytest.raises(AlreadyExistsError, match=other.name):
        store.rename_experiment(experiment.id, other.name)
    with pytest.raises(InvalidInputError):
        store.rename_experiment(experiment.id, "")


def test_a_deleted_experiment_takes_no_new_runs_nor_a_new_name(store: Store) -> None:
    experiment = store.create_experiment(unique())
    store.delete_experiment(experiment.id)
    with pytest.raises(ConflictError):
        store.create_run(experiment.id)
    with pytest.raises(ConflictError):
        store.rename_experiment(experiment.id, unique())
    store.restore_experiment(experiment.id)
    assert store.create_run(experiment.id).experiment_id == experiment.id


def test_experiment_tags(store: Store) -> None:
    experiment = store.create_experiment(unique(), tags={"a": "1"})
    store.set_experiment_tag(experiment.id, "b", "2")
    store.set_experiment_tag(experiment.id, "a", "changed")
    assert store.get_experiment(experiment.id).tags == {"a": "changed", "b": "2"}

    store.delete_experiment_tag(experiment.id, "a")
    assert store.get_experiment(experiment.id).tags == {"b": "2"}
    with pytest.raises(NotFoundError, match="a"):
        store.delete_experiment_tag(experiment.id, "a")
    with pytest.raises(NotFoundError):
        store.set_experiment_tag("0" * 32, "k", "v")
    with pytest.raises(InvalidInputError):
        store.set_experiment_tag(experiment.id, "../escape", "v")


def test_deleting_an_experiment_hides_its_runs_from_active_searches(store: Store) -> None:
    experiment = store.create_experiment(unique())
    run = store.create_run(experiment.id)
    assert [r.id for r in store.search_runs([experiment.id]).items] == [run.id]

    store.delete_experiment(experiment.id)

    assert store.search_runs([experiment.id]).items == []
    deleted = store.search_runs([experiment.id], view=ViewType.DELETED).items
    assert [r.id for r in deleted] == [run.id]
    assert store.get_run(run.id).id == run.id
