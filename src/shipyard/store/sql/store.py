"""SqlStore: the Store interface on SQLite or PostgreSQL (SQLAlchemy Core).

Opening a store brings its database to the newest schema (Alembic). Every
write is one transaction; database errors become the most specific
:class:`shipyard.errors.ShipyardError`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from shipyard.entities import (
    ArtifactEntry,
    Experiment,
    LifecycleStage,
    Metric,
    Page,
    Param,
    Run,
    RunKeys,
    RunStatus,
    Tag,
    ViewType,
    now_ms,
)
from shipyard.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ServiceUnavailableError,
    ShipyardError,
)
from shipyard.store import names
from shipyard.store.base import DEFAULT_PAGE_SIZE, MAX_RUN_KEYS, Store
from shipyard.store.sql import checks, history, loading, migrations, writes
from shipyard.store.sql import tables as t
from shipyard.store.sql.artifact_clashes import refuse_clashes
from shipyard.store.sql.datasets import SqlDatasetStore
from shipyard.store.sql.engine import create_engine, read_transaction, write_transaction
from shipyard.store.sql.models import SqlModelRegistryStore
from shipyard.store.sql.monitoring import SqlMonitoringStore
from shipyard.store.sql.run_keys import list_run_keys
from shipyard.store.sql.search import search_run_ids
from shipyard.validation import validate_key, validate_name, validate_tag_value, validate_timestamp

__all__ = ["SqlStore"]

_ACTIVE = LifecycleStage.ACTIVE.value
_DELETED = LifecycleStage.DELETED.value


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Database errors that slip past the checks become ShipyardErrors."""
    try:
        yield
    except ShipyardError:
        raise
    except sa.exc.IntegrityError as exc:
        raise ConflictError(f"the change conflicts with stored data: {exc.orig}") from exc
    except sa.exc.DataError as exc:
        raise InvalidInputError(f"the database refused a value: {exc.orig}") from exc
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise ServiceUnavailableError(f"the database is unavailable: {exc.orig}") from exc


class SqlStore(SqlDatasetStore, SqlModelRegistryStore, SqlMonitoringStore, Store):
    """Metadata in a SQL database; ``url`` is a SQLAlchemy URL (sqlite or postgresql)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = create_engine(url)
        self._dialect = self._engine.dialect.name
        try:
            with _translated():
                migrations.upgrade(self._engine)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine, for tools that query the schema directly."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self._engine.url.render_as_string(hide_password=True)!r})"

    # -- plumbing ------------------------------------------------------------
    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with _translated(), write_transaction(self._engine) as conn:
            yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with _translated(), read_transaction(self._engine) as conn:
            yield conn

    def _binary(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
        """Code point order on both databases (PostgreSQL's default collation is not)."""
        return column.collate("C") if self._dialect == "postgresql" else column

    def referenced_digests(self) -> set[str]:
        """Run artifacts and live dataset manifests, plus model packages and evaluation plots,
        and prediction log files and monitoring reports."""
        found = super().referenced_digests() | self.model_referenced_digests()
        return found | self.monitoring_referenced_digests()

    # -- experiments -----------------------------------------------------------
    def _experiment_row(self, conn: sa.Connection, experiment_id: str) -> sa.Row[Any]:
        checks.check_id(experiment_id, "experiment id")
        row = conn.execute(
            sa.select(t.experiments).where(t.experiments.c.id == experiment_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no experiment with id {experiment_id!r}")
        return row

    def create_experiment(self, name: str, tags: dict[str, str] | None = None) -> Experiment:
        name = validate_name(name, "experiment name")
        tag_values = checks.check_tags(tags)
        now = now_ms()
        experiment = Experiment(uuid.uuid4().hex, name, LifecycleStage.ACTIVE, now, now, tag_values)
        with self._write() as conn:
            taken = conn.execute(
                sa.select(t.experiments.c.lifecycle_stage).where(t.experiments.c.name == name)
            ).first()
            if taken is not None:
                state = (
                    " (deleted; restore it or pick another name)" if taken[0] == _DELETED else ""
                )
                raise AlreadyExistsError(f"experiment {name!r} already exists{state}")
            try:
                conn.execute(
                    t.experiments.insert().values(
                        id=experiment.id,
                        name=name,
                        lifecycle_stage=_ACTIVE,
                        created_at=now,
                        updated_at=now,
                    )
                )
            except sa.exc.IntegrityError as exc:
                raise AlreadyExistsError(f"experiment {name!r} already exists") from exc
            writes.upsert(
                conn,
                t.experiment_tags,
                [
                    {"experiment_id": experiment.id, "key": k, "value": v}
                    for k, v in tag_values.items()
                ],
            )
        return experiment

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self._read() as conn:
            row = self._experiment_row(conn, experiment_id)
            return loading.experiments_from_rows(conn, [row])[0]

    def get_experiment_by_name(self, name: str) -> Experiment:
        name = validate_name(name, "experiment name")
        with self._read() as conn:
            row = conn.execute(sa.select(t.experiments).where(t.experiments.c.name == name)).first()
            if row is None:
                raise NotFoundError(f"no experiment named {name!r}")
            return loading.experiments_from_rows(conn, [row])[0]

    def list_experiments(
        self,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        view = checks.check_view(view)
        limit = checks.check_page_size(max_results)
        name = self._binary(t.experiments.c.name)
        query = sa.select(t.experiments).order_by(name).limit(limit + 1)
        if view is not ViewType.ALL:
            query = query.where(t.experiments.c.lifecycle_stage == view.value)
        if page_token is not None:
            query = query.where(name > checks.decode_token(page_token, "after"))
        with self._read() as conn:
            rows = conn.execute(query).all()
            items = loading.experiments_from_rows(conn, rows[:limit])
        token = checks.encode_token({"after": items[-1].name}) if len(rows) > limit else None
        return Page(items, token)

    def rename_experiment(self, experiment_id: str, new_name: str) -> Experiment:
        new_name = validate_name(new_name, "experiment name")
        with self._write() as conn:
            row = self._experiment_row(conn, experiment_id)
            if row.lifecycle_stage == _DELETED:
                raise ConflictError(f"experiment {row.name!r} is deleted; restore it first")
            if row.name != new_name:
                taken = conn.execute(
                    sa.select(t.experiments.c.id).where(t.experiments.c.name == new_name)
                ).first()
                if taken is not None:
                    raise AlreadyExistsError(f"experiment {new_name!r} already exists")
                try:
                    conn.execute(
                        t.experiments.update()
                        .where(t.experiments.c.id == experiment_id)
                        .values(name=new_name, updated_at=now_ms())
                    )
                except sa.exc.IntegrityError as exc:
                    raise AlreadyExistsError(f"experiment {new_name!r} already exists") from exc
            row = self._experiment_row(conn, experiment_id)
            return loading.experiments_from_rows(conn, [row])[0]

    def _set_experiment_stage(self, experiment_id: str, stage: str) -> None:
        with self._write() as conn:
            self._experiment_row(conn, experiment_id)
            conn.execute(
                t.experiments.update()
                .where(t.experiments.c.id == experiment_id)
                .values(lifecycle_stage=stage, updated_at=now_ms())
            )

    def delete_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, _DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, _ACTIVE)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        key = validate_key(key, "tag key")
        value = validate_tag_value(value, key)
        with self._write() as conn:
            self._experiment_row(conn, experiment_id)
            row = {"experiment_id": experiment_id, "key": key, "value": value}
            writes.upsert(conn, t.experiment_tags, [row])

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        key = validate_key(key, "tag key")
        table = t.experiment_tags
        with self._write() as conn:
            self._experiment_row(conn, experiment_id)
            result = conn.execute(
                table.delete().where(table.c.experiment_id == experiment_id, table.c.key == key)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"experiment {experiment_id!r} has no tag {key!r}")

    # -- runs --------------------------------------------------------------------
    def _run_row(self, conn: sa.Connection, run_id: str, *, active: bool = False) -> sa.Row[Any]:
        checks.check_id(run_id, "run id")
        row = conn.execute(sa.select(t.runs).where(t.runs.c.id == run_id)).first()
        if row is None:
            raise NotFoundError(f"no run with id {run_id!r}")
        if active and row.lifecycle_stage == _DELETED:
            raise ConflictError(f"run {run_id!r} is deleted; restore it to change it")
        return row

    def create_run(
        self,
        experiment_id: str,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
        user: str | None = None,
    ) -> Run:
        checks.check_id(experiment_id, "experiment id")
        name = names.generate_run_name() if name is None else validate_name(name, "run name")
        tag_values = checks.check_tags(tags)
        start = now_ms() if start_time is None else validate_timestamp(start_time)
        if user is not None:
            user = validate_name(user, "user")
        run_id = uuid.uuid4().hex
        with self._write() as conn:
            experiment = self._experiment_row(conn, experiment_id)
            if experiment.lifecycle_stage == _DELETED:
                raise ConflictError(
                    f"experiment {experiment.name!r} is deleted; restore it to add runs"
                )
            if parent_run_id is not None:
                self._run_row(conn, parent_run_id)
            conn.execute(
                t.runs.insert().values(
                    id=run_id,
                    experiment_id=experiment_id,
                    name=name,
                    status=RunStatus.RUNNING.value,
                    start_time=start,
                    end_time=None,
                    lifecycle_stage=_ACTIVE,
                    parent_run_id=parent_run_id,
                    user=user,
                )
            )
            writes.upsert(
                conn,
                t.tags,
                [{"run_id": run_id, "key": k, "value": v} for k, v in tag_values.items()],
            )
        return Run(
            id=run_id,
            experiment_id=experiment_id,
            name=name,
            status=RunStatus.RUNNING,
            start_time=start,
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            parent_run_id=parent_run_id,
            user=user,
            tags=tag_values,
        )

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            return loading.runs_from_rows(conn, [self._run_row(conn, run_id)])[0]

    def update_run(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
    ) -> Run:
        values: dict[str, Any] = {}
        if status is not None:
            status = checks.check_status(status)
            values["status"] = status.value
            if end_time is None:
                # A finished run ends now; a run set running again has not ended.
                values["end_time"] = now_ms() if status.is_terminal else None
        if end_time is not None:
            values["end_time"] = validate_timestamp(end_time)
        if name is not None:
            values["name"] = validate_name(name, "run name")
        with self._write() as conn:
            row = self._run_row(conn, run_id, active=True)
            end = values.get("end_time")
            if end is not None and end < row.start_time:
                raise InvalidInputError(
                    f"end_time {end} is before the run's start_time {row.start_time}"
                )
            if values:
                conn.execute(t.runs.update().where(t.runs.c.id == run_id).values(**values))
            return loading.runs_from_rows(conn, [self._run_row(conn, run_id)])[0]

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        with self._write() as conn:
            self._run_row(conn, run_id)
            conn.execute(t.runs.update().where(t.runs.c.id == run_id).values(lifecycle_stage=stage))

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, _DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, _ACTIVE)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[Tag] = (),
        idempotency_key: str | None = None,
    ) -> None:
        checks.check_id(run_id, "run id")
        points = checks.check_metrics(metrics)
        param_values = checks.check_params(params)
        tag_values = checks.check_batch_tags(tags)
        key = checks.check_idempotency_key(idempotency_key)
        self._store_batch(run_id, points, param_values, tag_values, key)

    def log_metric_columns(
        self,
        run_id: str,
        keys: Sequence[str],
        values: Sequence[float],
        steps: Sequence[int],
        timestamps: Sequence[int],
        idempotency_key: str | None = None,
    ) -> None:
        checks.check_id(run_id, "run id")
        points = checks.check_metric_columns(keys, values, steps, timestamps)
        key = checks.check_idempotency_key(idempotency_key)
        self._store_batch(run_id, points, {}, {}, key)

    def _store_batch(
        self,
        run_id: str,
        points: checks.MetricColumns,
        param_values: dict[str, str],
        tag_values: dict[str, str],
        idempotency_key: str | None,
    ) -> None:
        with self._write() as conn:
            if idempotency_key is not None and not writes.claim_idempotency_key(
                conn, idempotency_key
            ):
                return  # this batch was stored already
            self._run_row(conn, run_id, active=True)
            if param_values:
                writes.insert_params(conn, run_id, param_values)
            writes.upsert(
                conn,
                t.tags,
                [{"run_id": run_id, "key": k, "value": v} for k, v in tag_values.items()],
            )
            if points.keys:
                writes.insert_metrics(conn, run_id, points)

    def delete_tag(self, run_id: str, key: str) -> None:
        key = validate_key(key, "tag key")
        with self._write() as conn:
            self._run_row(conn, run_id, active=True)
            result = conn.execute(
                t.tags.delete().where(t.tags.c.run_id == run_id, t.tags.c.key == key)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"run {run_id!r} has no tag {key!r}")

    def get_metric_history(
        self, run_id: str, key: str, max_points: int | None = None
    ) -> list[Metric]:
        key = validate_key(key, "metric key")
        if max_points is not None and (
            isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1
        ):
            raise InvalidInputError(f"max_points must be a positive integer, got {max_points!r}")
        with self._read() as conn:
            self._run_row(conn, run_id)
            if max_points is None:
                return history.full_history(conn, run_id, key)
            return history.downsampled_history(conn, run_id, key, max_points)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view: ViewType = ViewType.ACTIVE,
        max_results: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Page[Run]:
        if isinstance(experiment_ids, str) or not isinstance(experiment_ids, Sequence):
            raise InvalidInputError("experiment_ids must be a list of experiment ids")
        ids = [checks.check_id(i, "experiment id") for i in experiment_ids]
        view = checks.check_view(view)
        with self._read() as conn:
            run_ids, token = search_run_ids(
                conn, ids, filter_string, order_by, view, max_results, page_token
            )
            return Page(loading.load_runs(conn, run_ids), token)

    def list_run_keys(self, experiment_ids: Sequence[str]) -> RunKeys:
        if isinstance(experiment_ids, str) or not isinstance(experiment_ids, Sequence):
            raise InvalidInputError("experiment_ids must be a list of experiment ids")
        ids = [checks.check_id(i, "experiment id") for i in experiment_ids]
        with self._read() as conn:
            return list_run_keys(conn, ids, MAX_RUN_KEYS)

    # -- artifacts -----------------------------------------------------------------
    def log_artifacts(self, run_id: str, entries: Sequence[ArtifactEntry]) -> None:
        checks.check_id(run_id, "run id")
        checked = checks.check_artifacts(entries)
        rows = [
            {"run_id": run_id, "path": e.path, "digest": e.digest, "size": e.size}
            for e in checked.values()
        ]
        with self._write() as conn:
            self._run_row(conn, run_id, active=True)
            refuse_clashes(conn, run_id, checked.keys())
            writes.upsert(conn, t.artifacts, rows)

    def list_artifacts(self, run_id: str, prefix: str | None = None) -> list[ArtifactEntry]:
        a = t.artifacts
        query = sa.select(a.c.path, a.c.size, a.c.digest).where(a.c.run_id == run_id)
        if prefix is not None and not isinstance(prefix, str):
            raise InvalidInputError(f"prefix must be a string, got {prefix!r}")
        if prefix and prefix.rstrip("/"):
            folder = checks.check_artifact_path(prefix.rstrip("/"))
            inside = sa.func.substr(a.c.path, 1, len(folder) + 1) == folder + "/"
            query = query.where(sa.or_(a.c.path == folder, inside))
        with self._read() as conn:
            self._run_row(conn, run_id)
            rows = conn.execute(query).all()
        # Sorted here: PostgreSQL's collation would order paths differently from SQLite.
        return sorted(
            (ArtifactEntry(path, size, digest) for path, size, digest in rows),
            key=lambda entry: entry.path,
        )

    def get_artifact(self, run_id: str, path: str) -> ArtifactEntry:
        path = checks.check_artifact_path(path)
        a = t.artifacts
        with self._read() as conn:
            self._run_row(conn, run_id)
            row = conn.execute(
                sa.select(a.c.size, a.c.digest).where(a.c.run_id == run_id, a.c.path == path)
            ).first()
        if row is None:
            raise NotFoundError(f"run {run_id!r} has no artifact {path!r}")
        return ArtifactEntry(path, row.size, row.digest)
