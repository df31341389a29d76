"""The model registry half of SqlStore: registered models, versions, aliases and their audit
trail (evaluations and promotion decisions are in :mod:`model_evaluations`).

``SqlStore`` mixes this in and provides the transactions. Every change to a
model's versions or aliases first locks the model's row (PostgreSQL
``SELECT ... FOR UPDATE``; SQLite's write transactions hold the database lock
from their start), so version numbers are taken one at a time and an alias
never moves between a check and its write. A unique constraint on (model,
version) backs the numbering up: a writer that still collides starts its
transaction again.

This store cannot see blobs: callers store the package's blobs before they
call :meth:`create_model_version` (the REST server checks the manifest is there).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from shipyard.entities import AliasEvent, ModelVersion, ModelVersionStatus, Page, RegisteredModel
from shipyard.entities import now_ms as _now
from shipyard.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from shipyard.store import dataset_checks as dc
from shipyard.store.hashing import validate_digest
from shipyard.store.models_base import (
    ModelRegistryStore,
    normalize_model_ref,
    validate_model_alias,
    validate_model_name,
)
from shipyard.store.sql import checks, writes
from shipyard.store.sql import model_checks as mc
from shipyard.store.sql import model_loading as ml
from shipyard.store.sql import tables_models as tm
from shipyard.store.sql.model_evaluations import SqlModelEvaluations
from shipyard.validation import validate_key, validate_tag_value, validate_utf8

__all__ = ["SqlModelRegistryStore"]

# Transactions a create may start when a concurrent writer took its number first.
_ATTEMPTS = 5
_MAX_PATTERN_LENGTH = 1024

_m = tm.registered_models
_v = tm.model_versions
_a = tm.model_aliases
_e = tm.alias_events


def _check_pattern(pattern: object) -> str:
    """A LIKE pattern; ``\\`` escapes ``%`` and ``_`` on both databases."""
    if not isinstance(pattern, str):
        raise InvalidInputError(f"name_like must be a string, got {type(pattern).__name__}")
    if len(pattern) > _MAX_PATTERN_LENGTH:
        raise InvalidInputError(
            f"name_like is {len(pattern)} characters long; the limit is {_MAX_PATTERN_LENGTH}"
        )
    if (len(pattern) - len(pattern.rstrip("\\"))) % 2:
        raise InvalidInputError(f"name_like {pattern!r} ends with a lone escape character '\\'")
    return validate_utf8(pattern, "name_like")


class SqlModelRegistryStore(SqlModelEvaluations, ModelRegistryStore):
    """Mixin of :class:`shipyard.store.sql.store.SqlStore`; not usable on its own."""

    # -- rows ------------------------------------------------------------------
    @staticmethod
    def _touch_model(conn: sa.Connection, model_id: str) -> None:
        conn.execute(_m.update().where(_m.c.id == model_id).values(updated_at=_now()))

    @staticmethod
    def _load_model(conn: sa.Connection, model_id: str) -> RegisteredModel:
        row = conn.execute(ml.models_query().where(_m.c.id == model_id)).one()
        return ml.models_from_rows(conn, [row])[0]

    @staticmethod
    def _load_model_version(conn: sa.Connection, name: str, version_id: str) -> ModelVersion:
        row = conn.execute(sa.select(_v).where(_v.c.id == version_id)).one()
        return ml.versions_from_rows(conn, name, [row])[0]

    # -- registered models -----------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        name = validate_model_name(name)
        text = mc.check_text(description, "description", dc.MAX_DESCRIPTION_LENGTH)
        tag_values = checks.check_tags(tags)
        model_id = uuid.uuid4().hex
        now = _now()
        with self._write() as conn:
            claim = writes.insert_stmt(conn, _m).values(
                id=model_id, name=name, description=text, created_at=now, updated_at=now
            )
            inserted = conn.execute(
                claim.on_conflict_do_nothing(index_elements=["name"]).returning(_m.c.id)
            ).first()
            if inserted is None:
                raise AlreadyExistsError(f"registered model {name!r} already exists")
            rows = [{"model_id": model_id, "key": k, "value": v} for k, v in tag_values.items()]
            writes.upsert(conn, tm.registered_model_tags, rows)
            return self._load_model(conn, model_id)

    def get_registered_model(self, name: str) -> RegisteredModel:
        name = validate_model_name(name)
        with self._read() as conn:
            return self._load_model(conn, ml.model_row(conn, name).id)

    def list_registered_models(
        self,
        name_like: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        limit = checks.check_page_size(max_results)
        query = ml.models_query()
        if name_like is not None:
            query = query.where(_m.c.name.ilike(_check_pattern(name_like), escape="\\"))
        name = self._binary(_m.c.name)
        if page_token is not None:
            query = query.where(name > checks.decode_token(page_token, "after"))
        with self._read() as conn:
            rows = conn.execute(query.order_by(name).limit(limit + 1)).all()
            items = ml.models_from_rows(conn, rows[:limit])
        token = checks.encode_token({"after": items[-1].name}) if len(rows) > limit else None
        return Page(items, token)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        name = validate_model_name(name)
        text = mc.check_text(description, "description", dc.MAX_DESCRIPTION_LENGTH)
        with self._write() as conn:
            model = ml.model_row(conn, name)
            conn.execute(
                _m.update().where(_m.c.id == model.id).values(description=text, updated_at=_now())
            )
            return self._load_model(conn, model.id)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        name = validate_model_name(name)
        key = validate_key(key, "tag key")
        value = validate_tag_value(value, key)
        with self._write() as conn:
            model = ml.model_row(conn, name)
            row = {"model_id": model.id, "key": key, "value": value}
            writes.upsert(conn, tm.registered_model_tags, [row])
            self._touch_model(conn, model.id)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        name = validate_model_name(name)
        key = validate_key(key, "tag key")
        mt = tm.registered_model_tags
        with self._write() as conn:
            model = ml.model_row(conn, name)
            result = conn.execute(mt.delete().where(mt.c.model_id == model.id, mt.c.key == key))
            if result.rowcount == 0:
                raise NotFoundError(f"registered model {name!r} has no tag {key!r}")
            self._touch_model(conn, model.id)

    # -- versions ----------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        package_digest: str,
        run_id: str | None = None,
        flavor: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        user: str | None = None,
        idempotency_key: str | None = None,
    ) -> ModelVersion:
        values: dict[str, Any] = {
            "source": mc.check_uri(source, "source"),
            "package_digest": validate_digest(package_digest, "package digest"),
            "run_id": None if run_id is None else checks.check_id(run_id, "run id"),
            "flavor": mc.check_flavor(flavor),
            "description": mc.check_text(description, "description", dc.MAX_DESCRIPTION_LENGTH),
            "user": mc.check_optional_name(user, "user"),
            "idempotency_key": checks.check_idempotency_key(idempotency_key),
        }
        name = validate_model_name(name)
        tag_values = checks.check_tags(tags)
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self._write() as conn:
                    return self._create_model_version(conn, name, values, tag_values)
            except ConflictError as exc:
                # Only a lost race on a unique constraint is worth another try.
                if attempt == _ATTEMPTS or not isinstance(exc.__cause__, sa.exc.IntegrityError):
                    raise
        raise AssertionError("unreachable")

    def _create_model_version(
        self, conn: sa.Connection, name: str, values: dict[str, Any], tags: dict[str, str]
    ) -> ModelVersion:
        key = values["idempotency_key"]
        if key is not None:
            done = self._model_version_by_key(conn, key, name, values["package_digest"])
            if done is not None:
                return done
        if values["run_id"] is not None:
            self._run_row(conn, values["run_id"])
        now = _now()
        claim = writes.insert_stmt(conn, _m).values(
            id=uuid.uuid4().hex, name=name, description=None, created_at=now, updated_at=now
        )
        conn.execute(claim.on_conflict_do_nothing(index_elements=["name"]))
        model = ml.model_row(conn, name, lock=True)
        highest = conn.execute(
            sa.select(sa.func.max(_v.c.version)).where(_v.c.model_id == model.id)
        ).scalar()
        row = {
            **values,
            "id": uuid.uuid4().hex,
            "model_id": model.id,
            "version": (highest or 0) + 1,
            "created_at": now,
            "updated_at": now,
            "status": ml.READY,
        }
        conn.execute(_v.insert().values(**row))
        rows = [{"model_version_id": row["id"], "key": k, "value": v} for k, v in tags.items()]
        writes.upsert(conn, tm.model_version_tags, rows)
        self._touch_model(conn, model.id)
        return self._load_model_version(conn, name, row["id"])

    @staticmethod
    def _model_version_by_key(
        conn: sa.Connection, key: str, name: str, digest: str
    ) -> ModelVersion | None:
        found = conn.execute(
            sa.select(_v.c.id, _v.c.package_digest, _m.c.name)
            .join(_m, _m.c.id == _v.c.model_id)
            .where(_v.c.idempotency_key == key)
        ).first()
        if found is None:
            return None
        if found.name != name or found.package_digest != digest:
            raise ConflictError(
                f"idempotency key {key!r} was already used for another model version"
            )
        return SqlModelRegistryStore._load_model_version(conn, name, found.id)

    def get_model_version(self, name: str, ref: int | str | None = None) -> ModelVersion:
        name = validate_model_name(name)
        wanted = normalize_model_ref(ref)
        if isinstance(wanted, int):
            wanted = dc.check_version(wanted)
        with self._read() as conn:
            model = ml.model_row(conn, name)
            if wanted is None:
                row = ml.latest_row(conn, model)
            elif isinstance(wanted, int):
                row = ml.version_row(conn, model, wanted)
            else:
                found = ml.alias_row(conn, model, wanted)
                if found is None:
                    raise NotFoundError(f"model {name!r} has no alias {wanted!r}")
                row = found
            return ml.versions_from_rows(conn, name, [row])[0]

    def list_model_versions(
        self, name: str, status: ModelVersionStatus | None = None
    ) -> list[ModelVersion]:
        name = validate_model_name(name)
        wanted = None if status is None else mc.check_status(status)
        with self._read() as conn:
            model = ml.model_row(conn, name)
            query = sa.select(_v).where(_v.c.model_id == model.id).order_by(_v.c.version)
            if wanted is not None:
                query = query.where(_v.c.status == wanted.value)
            return ml.versions_from_rows(conn, name, conn.execute(query).all())

    def update_model_version(
        self,
        name: str,
        version: int,
        description: str | None = None,
        status: ModelVersionStatus | None = None,
    ) -> ModelVersion:
        name = validate_model_name(name)
        number = dc.check_version(version)
        values: dict[str, Any] = {}
        if description is not None:
            values["description"] = mc.check_text(
                description, "description", dc.MAX_DESCRIPTION_LENGTH
            )
        if status is not None:
            values["status"] = mc.check_status(status).value
        with self._write() as conn:
            model = ml.model_row(conn, name, lock=True)
            row = ml.version_row(conn, model, number)
            if values.get("status") == ml.ARCHIVED and row.status != ml.ARCHIVED:
                aliases = sorted(
                    conn.execute(
                        sa.select(_a.c.alias).where(_a.c.model_version_id == row.id)
                    ).scalars()
                )
                if aliases:
                    named = ", ".join(repr(alias) for alias in aliases)
                    raise ConflictError(
                        f"version {number} of model {name!r} cannot be archived: alias {named} "
                        "names it; move or delete the alias first"
                    )
            if values:
                conn.execute(
                    _v.update().where(_v.c.id == row.id).values(**values, updated_at=_now())
                )
                self._touch_model(conn, model.id)
            return self._load_model_version(conn, name, row.id)

    def _model_version_for_tags(self, conn: sa.Connection, name: str, version: int) -> sa.Row[Any]:
        row = ml.version_row(conn, ml.model_row(conn, name), version)
        conn.execute(_v.update().where(_v.c.id == row.id).values(updated_at=_now()))
        return row

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        name = validate_model_name(name)
        number = dc.check_version(version)
        key = validate_key(key, "tag key")
        value = validate_tag_value(value, key)
        with self._write() as conn:
            row = self._model_version_for_tags(conn, name, number)
            tag = {"model_version_id": row.id, "key": key, "value": value}
            writes.upsert(conn, tm.model_version_tags, [tag])

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        name = validate_model_name(name)
        number = dc.check_version(version)
        key = validate_key(key, "tag key")
        vt = tm.model_version_tags
        with self._write() as conn:
            row = self._model_version_for_tags(conn, name, number)
            result = conn.execute(
                vt.delete().where(vt.c.model_version_id == row.id, vt.c.key == key)
            )
            if result.rowcount == 0:
                raise NotFoundError(f"version {number} of model {name!r} has no tag {key!r}")

    # -- aliases -------------------------------------------------------------------
    def set_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        user: str | None = None,
        reason: str | None = None,
    ) -> AliasEvent:
        name = validate_model_name(name)
        alias = validate_model_alias(alias)
        number = dc.check_version(version)
        user = mc.check_optional_name(user, "user")
        reason = mc.check_text(reason, "reason", dc.MAX_MESSAGE_LENGTH)
        with self._write() as conn:
            model = ml.model_row(conn, name, lock=True)
            row = ml.version_row(conn, model, number)
            if row.status == ml.ARCHIVED:
                raise ConflictError(
                    f"version {number} of model {name!r} is archived; "
                    f"alias {alias!r} cannot name it"
                )
            current = ml.alias_row(conn, model, alias)
            if current is not None and current.version == number:
                last = conn.execute(
                    sa.select(_e)
                    .where(_e.c.model_id == model.id, _e.c.alias == alias)
                    .order_by(_e.c.seq.desc())
                    .limit(1)
                ).first()
                if last is not None:
                    return ml.event_from_row(last, name)
            moved = {"model_id": model.id, "alias": alias, "model_version_id": row.id}
            writes.upsert(conn, _a, [moved])
            previous = None if current is None else current.version
            return self._record_alias_event(conn, model, alias, previous, number, user, reason)

    def delete_model_alias(
        self, name: str, alias: str, user: str | None = None, reason: str | None = None
    ) -> AliasEvent:
        name = validate_model_name(name)
        alias = validate_model_alias(alias)
        user = mc.check_optional_name(user, "user")
        reason = mc.check_text(reason, "reason", dc.MAX_MESSAGE_LENGTH)
        with self._write() as conn:
            model = ml.model_row(conn, name, lock=True)
            current = ml.alias_row(conn, model, alias)
            if current is None:
                raise NotFoundError(f"model {name!r} has no alias {alias!r}")
            conn.execute(_a.delete().where(_a.c.model_id == model.id, _a.c.alias == alias))
            return self._record_alias_event(conn, model, alias, current.version, None, user, reason)

    def _record_alias_event(
        self,
        conn: sa.Connection,
        model: sa.Row[Any],
        alias: str,
        from_version: int | None,
        to_version: int | None,
        user: str | None,
        reason: str | None,
    ) -> AliasEvent:
        """Write the move into the audit trail, in the transaction that made it."""
        event = AliasEvent(
            name=model.name,
            alias=alias,
            from_version=from_version,
            to_version=to_version,
            user=user,
            reason=reason,
            created_at=_now(),
            id=uuid.uuid4().hex,
        )
        conn.execute(
            _e.insert().values(
                id=event.id,
                model_id=model.id,
                alias=alias,
                from_version=from_version,
                to_version=to_version,
                user=user,
                reason=reason,
                created_at=event.created_at,
            )
        )
        self._touch_model(conn, model.id)
        return event

    def list_alias_events(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        name = validate_model_name(name)
        wanted = None if alias is None else validate_model_alias(alias)
        with self._read() as conn:
            model = ml.model_row(conn, name)
            query = sa.select(_e).where(_e.c.model_id == model.id).order_by(_e.c.seq)
            if wanted is not None:
                query = query.where(_e.c.alias == wanted)
            return [ml.event_from_row(row, name) for row in conn.execute(query)]
