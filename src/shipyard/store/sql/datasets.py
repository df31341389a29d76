"""The dataset half of SqlStore: versions, labels, profiles and lineage.

``SqlStore`` mixes this in and provides the transactions. Version numbers are
taken under a lock on the dataset's row (PostgreSQL ``SELECT ... FOR UPDATE``;
SQLite's write transactions hold the database lock from their start) and a
unique constraint on (dataset, version) backs that up: a writer that still
collides starts its transaction again.

This store cannot see blobs: callers store every file blob and then the
manifest blob before they call :meth:`create_dataset_version` (the REST
server checks the manifest is there).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from shipyard.entities import (
    Dataset,
    DatasetVersion,
    LifecycleStage,
    Page,
    RunInput,
    ViewType,
    now_ms,
)
from shipyard.errors import ConflictError, NotFoundError
from shipyard.store import dataset_checks as dc
from shipyard.store.datasets_base import DatasetStore, normalize_ref, validate_dataset_name
from shipyard.store.datasets_base import validate_version_tag as check_tag
from shipyard.store.sql import checks, writes
from shipyard.store.sql import dataset_loading as dl
from shipyard.store.sql import tables as t
from shipyard.validation import validate_key, validate_name, validate_tag_value

__all__ = ["SqlDatasetStore"]

# Transactions a create may start when a concurrent writer took its number first.
_ATTEMPTS = 5

_v = t.dataset_versions


class SqlDatasetStore(DatasetStore):
    """Mixin of :class:`shipyard.store.sql.store.SqlStore`; not usable on its own."""

    # Provided by SqlStore.
    def _write(self) -> contextlib.AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    def _read(self) -> contextlib.AbstractContextManager[sa.Connection]:
        raise NotImplementedError

    def _binary(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        raise NotImplementedError

    def _run_row(self, conn: sa.Connection, run_id: str, *, active: bool = False) -> sa.Row[Any]:
        raise NotImplementedError

    # -- rows ------------------------------------------------------------------
    @staticmethod
    def _touch(conn: sa.Connection, dataset_id: str) -> None:
        conn.execute(
            t.datasets.update().where(t.datasets.c.id == dataset_id).values(updated_at=now_ms())
        )

    @staticmethod
    def _move_tags(conn: sa.Connection, dataset_id: str, version_id: str, tags: list[str]) -> None:
        rows = [
            {"dataset_id": dataset_id, "tag": tag, "dataset_version_id": version_id} for tag in tags
        ]
        writes.upsert(conn, t.dataset_version_tags, rows)

    # -- versions --------------------------------------------------------------
    def create_dataset_version(
        self,
        name: str,
        manifest_digest: str,
        file_count: int,
        total_size: int,
        message: str | None = None,
        author: str | None = None,
        tags: Sequence[str] = (),
        profile: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[DatasetVersion, bool]:
        values: dict[str, Any] = {
            "manifest_digest": dc.check_manifest_digest(manifest_digest),
            "file_count": dc.check_count(file_count, "file count"),
            "total_size": dc.check_count(total_size, "total size"),
            "message": dc.check_text(message, "message", dc.MAX_MESSAGE_LENGTH),
            "author": None if author is None else validate_name(author, "author"),
            "profile": None if profile is None else dc.check_profile(profile),
            "idempotency_key": checks.check_idempotency_key(idempotency_key),
        }
        name = validate_dataset_name(name)
        labels = dc.check_version_tags(tags)
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self._write() as conn:
                    return self._create_version(conn, name, values, labels)
            except ConflictError as exc:
                # Only a lost race on a unique constraint is worth another try.
                if attempt == _ATTEMPTS or not isinstance(exc.__cause__, sa.exc.IntegrityError):
                    raise
        raise AssertionError("unreachable")

    def _create_version(
        self, conn: sa.Connection, name: str, values: dict[str, Any], labels: list[str]
    ) -> tuple[DatasetVersion, bool]:
        key = values["idempotency_key"]
        if key is not None:
            done = self._version_by_key(conn, key, name, values["manifest_digest"])
            if done is not None:
                return done, True
        now = now_ms()
        claim = writes.insert_stmt(conn, t.datasets).values(
            id=uuid.uuid4().hex, name=name, description=None, created_at=now, updated_at=now
        )
        conn.execute(claim.on_conflict_do_nothing(index_elements=["name"]))
        dataset = dl.dataset_row(conn, name, lock=True)
        latest = dl.latest_row(conn, dataset.id)
        if latest is not None and latest.manifest_digest == values["manifest_digest"]:
            if labels:
                self._move_tags(conn, dataset.id, latest.id, labels)
                self._touch(conn, dataset.id)
            return dl.versions_from_rows(conn, name, [latest])[0], False
        highest = conn.execute(
            sa.select(sa.func.max(_v.c.version)).where(_v.c.dataset_id == dataset.id)
        ).scalar()
        row = {
            **values,
            "id": uuid.uuid4().hex,
            "dataset_id": dataset.id,
            "version": (highest or 0) + 1,
            "created_at": now,
            "parent_version": None if latest is None else latest.version,
            "lifecycle_stage": dl.ACTIVE,
        }
        conn.execute(_v.insert().values(**row))
        self._move_tags(conn, dataset.id, row["id"], labels)
        self._touch(conn, dataset.id)
        stored = conn.execute(sa.select(_v).where(_v.c.id == row["id"])).one()
        return dl.version_from_row(stored, name, labels), True

    @staticmethod
    def _version_by_key(
        conn: sa.Connection, key: str, name: str, digest: str
    ) -> DatasetVersion | None:
        found = conn.execute(
            sa.select(_v, t.datasets.c.name.label("dataset_name"))
            .join(t.datasets, t.datasets.c.id == _v.c.dataset_id)
            .where(_v.c.idempotency_key == key)
        ).first()
        if found is None:
            return None
        if found.dataset_name != name or found.manifest_digest != digest:
            raise ConflictError(
                f"idempotency key {key!r} was already used for another dataset version"
            )
        return dl.versions_from_rows(conn, name, [found])[0]

    def get_dataset(self, name: str) -> Dataset:
        name = validate_dataset_name(name)
        with self._read() as conn:
            row = conn.execute(dl.datasets_query().where(t.datasets.c.name == name)).first()
            if row is None:
                raise NotFoundError(f"no dataset named {name!r}")
            return dl.datasets_from_rows(conn, [row])[0]

    def list_datasets(
        self,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[Dataset]:
        view = checks.check_view(view)
        limit = checks.check_page_size(max_results)
        query = dl.datasets_query()
        latest = query.selected_columns.latest
        if view is ViewType.ACTIVE:
            query = query.where(latest.is_not(None))
        elif view is ViewType.DELETED:
            query = query.where(latest.is_(None))
        name = self._binary(t.datasets.c.name)
        if page_token is not None:
            query = query.where(name > checks.decode_token(page_token, "after"))
        with self._read() as conn:
            rows = conn.execute(query.order_by(name).limit(limit + 1)).all()
            items = dl.datasets_from_rows(conn, rows[:limit])
        token = checks.encode_token({"after": items[-1].name}) if len(rows) > limit else None
        return Page(items, token)

    def get_dataset_version(self, name: str, ref: int | str | None = None) -> DatasetVersion:
        name = validate_dataset_name(name)
        wanted = normalize_ref(ref)
        if isinstance(wanted, int):
            wanted = dc.check_version(wanted)
        with self._read() as conn:
            dataset = dl.dataset_row(conn, name)
            if wanted is None:
                row = dl.latest_row(conn, dataset.id)
                if row is None:
                    raise NotFoundError(f"dataset {name!r} has no live version")
            elif isinstance(wanted, int):
                row = dl.version_row(conn, dataset, wanted)
            else:
                vt = t.dataset_version_tags
                row = conn.execute(
                    sa.select(_v)
                    .join(vt, vt.c.dataset_version_id == _v.c.id)
                    .where(vt.c.dataset_id == dataset.id, vt.c.tag == wanted)
                ).first()
                if row is None:
                    raise NotFoundError(f"dataset {name!r} has no version tagged {wanted!r}")
            return dl.versions_from_rows(conn, name, [row])[0]

    def list_dataset_versions(
        self, name: str, view: ViewType = ViewType.ACTIVE
    ) -> list[DatasetVersion]:
        name = validate_dataset_name(name)
        view = checks.check_view(view)
        with self._read() as conn:
            dataset = dl.dataset_row(conn, name)
            query = sa.select(_v).where(_v.c.dataset_id == dataset.id).order_by(_v.c.version)
            if view is not ViewType.ALL:
                query = query.where(_v.c.lifecycle_stage == view.value)
            return dl.versions_from_rows(conn, name, conn.execute(query).all())

    def tag_dataset_version(self, name: str, version: int, tag: str) -> None:
        name = validate_dataset_name(name)
        number = dc.check_version(version)
        tag = check_tag(tag)
        with self._write() as conn:
            dataset = dl.dataset_row(conn, name)
            row = dl.version_row(conn, dataset, number)
            if row.lifecycle_stage == dl.DELETED:
                raise ConflictError(
                    f"version {number} of dataset {name!r} is deleted; restore it to tag it"
                )
            self._move_tags(conn, dataset.id, row.id, [tag])
            self._touch(conn, dataset.id)

    def untag_dataset_version(self, name: str, tag: str) -> None:
        name = validate_dataset_name(name)
        tag = check_tag(tag)
        vt = t.dataset_version_tags
        with self._write() as conn:
            dataset = dl.dataset_row(conn, name)
            result = conn.execute(vt.delete().where(vt.c.dataset_id == dataset.id, vt.c.tag == tag))
            if result.rowcount == 0:
                raise NotFoundError(f"dataset {name!r} has no version tagged {tag!r}")
            self._touch(conn, dataset.id)

    def _update_version(self, name: str, version: int, **values: Any) -> None:
        name = validate_dataset_name(name)
        number = dc.check_version(version)
        with self._write() as conn:
            dataset = dl.dataset_row(conn, name)
            row = dl.version_row(conn, dataset, number)
            conn.execute(_v.update().where(_v.c.id == row.id).values(**values))
            self._touch(conn, dataset.id)

    def delete_dataset_version(self, name: str, version: int) -> None:
        self._update_version(name, version, lifecycle_stage=dl.DELETED)

    def restore_dataset_version(self, name: str, version: int) -> None:
        self._update_version(name, version, lifecycle_stage=dl.ACTIVE)

    def set_dataset_version_profile(self, name: str, version: int, profile: dict[str, Any]) -> None:
        self._update_version(name, version, profile=dc.check_profile(profile))

    def set_dataset_description(self, name: str, description: str | None) -> Dataset:
        name = validate_dataset_name(name)
        text = dc.check_text(description, "description", dc.MAX_DESCRIPTION_LENGTH)
        with self._write() as conn:
            dataset = dl.dataset_row(conn, name)
            conn.execute(
                t.datasets.update()
                .where(t.datasets.c.id == dataset.id)
                .values(description=text, updated_at=now_ms())
            )
            row = conn.execute(dl.datasets_query().where(t.datasets.c.id == dataset.id)).one()
            return dl.datasets_from_rows(conn, [row])[0]

    def set_dataset_tag(self, name: str, key: str, value: str) -> None:
        name = validate_dataset_name(name)
        key = validate_key(key, "tag key")
        value = validate_tag_value(value, key)
        with self._write() as conn:
            dataset = dl.dataset_row(conn, name)
            row = {"dataset_id": dataset.id, "key": key, "value": value}
            writes.upsert(conn, t.dataset_tags, [row])

    def delete_dataset_tag(self, name: str, key: str) -> None:
        name = validate_dataset_name(name)
        key = validate_key(key, "tag key")
        dt = t.dataset_tags
        with self._write() as conn:
            dataset = dl.dataset_row(conn, name)
            result = conn.execute(dt.delete().where(dt.c.dataset_id == dataset.id, dt.c.key == key))
            if result.rowcount == 0:
                raise NotFoundError(f"dataset {name!r} has no tag {key!r}")

    # -- lineage ---------------------------------------------------------------
    def log_run_inputs(self, run_id: str, inputs: Sequence[tuple[str, int]]) -> None:
        checks.check_id(run_id, "run id")
        pairs = dc.check_run_inputs(inputs)
        with self._write() as conn:
            self._run_row(conn, run_id, active=True)
            if not pairs:
                return
            found = {
                (row.name, row.version): row.id
                for row in conn.execute(
                    sa.select(_v.c.id, _v.c.version, t.datasets.c.name)
                    .join(t.datasets, t.datasets.c.id == _v.c.dataset_id)
                    .where(t.datasets.c.name.in_(sorted({name for name, _ in pairs})))
                )
            }
            for pair in pairs:
                if pair not in found:
                    raise NotFoundError(f"dataset {pair[0]!r} has no version {pair[1]}")
            now = now_ms()
            stmt = writes.insert_stmt(conn, t.run_inputs).on_conflict_do_nothing(
                index_elements=["run_id", "dataset_version_id"]
            )
            conn.execute(
                stmt,
                [
                    {"run_id": run_id, "dataset_version_id": found[pair], "created_at": now}
                    for pair in pairs
                ],
            )

    def get_run_inputs(self, run_id: str) -> list[RunInput]:
        ri = t.run_inputs
        with self._read() as conn:
            self._run_row(conn, run_id)
            rows = conn.execute(
                sa.select(t.datasets.c.name, _v.c.version, ri.c.created_at)
                .join(_v, _v.c.id == ri.c.dataset_version_id)
                .join(t.datasets, t.datasets.c.id == _v.c.dataset_id)
                .where(ri.c.run_id == run_id)
            ).all()
        # Sorted here so that both databases order names the same way.
        return sorted(
            (RunInput(run_id, name, version, created) for name, version, created in rows),
            key=lambda item: (item.dataset, item.version),
        )

    def get_dataset_version_runs(self, name: str, version: int) -> list[str]:
        """Active runs only: a deleted run is not shown as a consumer."""
        name = validate_dataset_name(name)
        number = dc.check_version(version)
        ri = t.run_inputs
        with self._read() as conn:
            row = dl.version_row(conn, dl.dataset_row(conn, name), number)
            return list(
                conn.execute(
                    sa.select(ri.c.run_id)
                    .join(t.runs, t.runs.c.id == ri.c.run_id)
                    .where(
                        ri.c.dataset_version_id == row.id,
                        t.runs.c.lifecycle_stage == LifecycleStage.ACTIVE.value,
                    )
                    .order_by(ri.c.created_at, ri.c.run_id)
                ).scalars()
            )

    # -- garbage collection ----------------------------------------------------
    def referenced_digests(self) -> set[str]:
        with self._read() as conn:
            found = set(conn.execute(sa.select(t.artifacts.c.digest).distinct()).scalars())
            found.update(self._live_manifests(conn))
        return found

    def live_manifest_digests(self) -> set[str]:
        with self._read() as conn:
            return self._live_manifests(conn)

    @staticmethod
    def _live_manifests(conn: sa.Connection) -> set[str]:
        query = sa.select(_v.c.manifest_digest).where(_v.c.lifecycle_stage == dl.ACTIVE)
        return set(conn.execute(query.distinct()).scalars())
