"""Reading dataset rows: look-ups by name and number, and entities (datasets with their
latest live version, versions with their labels).

Related rows load for a whole list at once, never one query per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from shipyard.entities import Dataset, DatasetVersion, LifecycleStage
from shipyard.errors import NotFoundError
from shipyard.store.sql import tables as t

ACTIVE = LifecycleStage.ACTIVE.value
DELETED = LifecycleStage.DELETED.value


def dataset_row(conn: sa.Connection, name: str, *, lock: bool = False) -> sa.Row[Any]:
    """The dataset's row; with ``lock``, locked until the transaction ends (PostgreSQL)."""
    query = sa.select(t.datasets).where(t.datasets.c.name == name)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFoundError(f"no dataset named {name!r}")
    return row


def version_row(conn: sa.Connection, dataset: sa.Row[Any], number: int) -> sa.Row[Any]:
    v = t.dataset_versions
    row = conn.execute(
        sa.select(v).where(v.c.dataset_id == dataset.id, v.c.version == number)
    ).first()
    if row is None:
        raise NotFoundError(f"dataset {dataset.name!r} has no version {number}")
    return row


def latest_row(conn: sa.Connection, dataset_id: str) -> sa.Row[Any] | None:
    """The newest live version's row, if any."""
    v = t.dataset_versions
    return conn.execute(
        sa.select(v)
        .where(v.c.dataset_id == dataset_id, v.c.lifecycle_stage == ACTIVE)
        .order_by(v.c.version.desc())
        .limit(1)
    ).first()


def latest_live_versions() -> sa.Subquery:
    """(dataset_id, latest): the newest live version number of each dataset that has one."""
    v = t.dataset_versions
    return (
        sa.select(v.c.dataset_id, sa.func.max(v.c.version).label("latest"))
        .where(v.c.lifecycle_stage == ACTIVE)
        .group_by(v.c.dataset_id)
        .subquery("latest_live")
    )


def datasets_query() -> sa.Select[Any]:
    """Dataset rows with a ``latest`` column (NULL when no version is live)."""
    latest = latest_live_versions()
    return sa.select(t.datasets, latest.c.latest).outerjoin(
        latest, latest.c.dataset_id == t.datasets.c.id
    )


def datasets_from_rows(conn: sa.Connection, rows: Sequence[sa.Row[Any]]) -> list[Dataset]:
    ids = [row.id for row in rows]
    tags: dict[str, dict[str, str]] = {dataset_id: {} for dataset_id in ids}
    if ids:
        dt = t.dataset_tags
        query = sa.select(dt.c.dataset_id, dt.c.key, dt.c.value).where(dt.c.dataset_id.in_(ids))
        for dataset_id, key, value in conn.execute(query):
            tags[dataset_id][key] = value
    return [
        Dataset(
            name=row.name,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
            lifecycle_stage=LifecycleStage.ACTIVE
            if row.latest is not None
            else LifecycleStage.DELETED,
            tags=tags[row.id],
            latest_version=row.latest,
        )
        for row in rows
    ]


def version_labels(conn: sa.Connection, version_ids: Sequence[str]) -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {version_id: [] for version_id in version_ids}
    if version_ids:
        vt = t.dataset_version_tags
        query = sa.select(vt.c.dataset_version_id, vt.c.tag).where(
            vt.c.dataset_version_id.in_(list(version_ids))
        )
        for version_id, tag in conn.execute(query):
            labels[version_id].append(tag)
    return {version_id: sorted(tags) for version_id, tags in labels.items()}


def version_from_row(row: sa.Row[Any], dataset: str, tags: list[str]) -> DatasetVersion:
    return DatasetVersion(
        dataset=dataset,
        version=row.version,
        manifest_digest=row.manifest_digest,
        file_count=row.file_count,
        total_size=row.total_size,
        message=row.message,
        author=row.author,
        created_at=row.created_at,
        parent_version=row.parent_version,
        tags=tags,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        profile=row.profile,
        id=row.id,
    )


def versions_from_rows(
    conn: sa.Connection, dataset: str, rows: Sequence[sa.Row[Any]]
) -> list[DatasetVersion]:
    labels = version_labels(conn, [row.id for row in rows])
    return [version_from_row(row, dataset, labels[row.id]) for row in rows]
