"""Reading model registry rows: look-ups by name, number and alias, and entities (models
with their tags, aliases and latest READY version; versions with their tags and aliases).

Related rows load for a whole list at once, never one query per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from shipyard.entities import (
    AliasEvent,
    Evaluation,
    ModelVersion,
    ModelVersionStatus,
    PromotionDecision,
    RegisteredModel,
)
from shipyard.errors import NotFoundError
from shipyard.store.sql import model_checks as mc
from shipyard.store.sql import tables_models as tm

READY = ModelVersionStatus.READY.value
ARCHIVED = ModelVersionStatus.ARCHIVED.value

_m = tm.registered_models
_v = tm.model_versions
_a = tm.model_aliases


def model_row(conn: sa.Connection, name: str, *, lock: bool = False) -> sa.Row[Any]:
    """The model's row; with ``lock``, locked until the transaction ends (PostgreSQL).

    Every change to a model's versions and aliases locks this row first, so those
    changes happen one after another (SQLite's write transactions already do).
    """
    query = sa.select(_m).where(_m.c.name == name)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFoundError(f"no registered model named {name!r}")
    return row


def version_row(conn: sa.Connection, model: sa.Row[Any], number: int) -> sa.Row[Any]:
    row = conn.execute(
        sa.select(_v).where(_v.c.model_id == model.id, _v.c.version == number)
    ).first()
    if row is None:
        raise NotFoundError(f"model {model.name!r} has no version {number}")
    return row


def latest_row(conn: sa.Connection, model: sa.Row[Any]) -> sa.Row[Any]:
    """The newest READY version's row."""
    row = conn.execute(
        sa.select(_v)
        .where(_v.c.model_id == model.id, _v.c.status == READY)
        .order_by(_v.c.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFoundError(f"model {model.name!r} has no READY version")
    return row


def alias_row(conn: sa.Connection, model: sa.Row[Any], alias: str) -> sa.Row[Any] | None:
    """The row of the version the alias names, if it names one."""
    return conn.execute(
        sa.select(_v)
        .join(_a, _a.c.model_version_id == _v.c.id)
        .where(_a.c.model_id == model.id, _a.c.alias == alias)
    ).first()


def latest_ready_versions() -> sa.Subquery:
    """(model_id, latest): the newest READY version number of each model that has one."""
    return (
        sa.select(_v.c.model_id, sa.func.max(_v.c.version).label("latest"))
        .where(_v.c.status == READY)
        .group_by(_v.c.model_id)
        .subquery("latest_ready")
    )


def models_query() -> sa.Select[Any]:
    """Model rows with a ``latest`` column (NULL when no version is READY)."""
    latest = latest_ready_versions()
    return sa.select(_m, latest.c.latest).outerjoin(latest, latest.c.model_id == _m.c.id)


def models_from_rows(conn: sa.Connection, rows: Sequence[sa.Row[Any]]) -> list[RegisteredModel]:
    ids = [row.id for row in rows]
    tags: dict[str, dict[str, str]] = {model_id: {} for model_id in ids}
    aliases: dict[str, dict[str, int]] = {model_id: {} for model_id in ids}
    if ids:
        mt = tm.registered_model_tags
        query = sa.select(mt.c.model_id, mt.c.key, mt.c.value).where(mt.c.model_id.in_(ids))
        for model_id, key, value in conn.execute(query):
            tags[model_id][key] = value
        named = (
            sa.select(_a.c.model_id, _a.c.alias, _v.c.version)
            .join(_v, _v.c.id == _a.c.model_version_id)
            .where(_a.c.model_id.in_(ids))
        )
        for model_id, alias, version in conn.execute(named):
            aliases[model_id][alias] = version
    return [
        RegisteredModel(
            name=row.name,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
            tags=dict(sorted(tags[row.id].items())),
            aliases=dict(sorted(aliases[row.id].items())),
            latest_version=row.latest,
        )
        for row in rows
    ]


def versions_from_rows(
    conn: sa.Connection, name: str, rows: Sequence[sa.Row[Any]]
) -> list[ModelVersion]:
    ids = [row.id for row in rows]
    tags: dict[str, dict[str, str]] = {version_id: {} for version_id in ids}
    aliases: dict[str, list[str]] = {version_id: [] for version_id in ids}
    if ids:
        vt = tm.model_version_tags
        query = sa.select(vt.c.model_version_id, vt.c.key, vt.c.value).where(
            vt.c.model_version_id.in_(ids)
        )
        for version_id, key, value in conn.execute(query):
            tags[version_id][key] = value
        named = sa.select(_a.c.model_version_id, _a.c.alias).where(_a.c.model_version_id.in_(ids))
        for version_id, alias in conn.execute(named):
            aliases[version_id].append(alias)
    return [
        ModelVersion(
            name=name,
            version=row.version,
            source=row.source,
            run_id=row.run_id,
            package_digest=row.package_digest,
            flavor=row.flavor,
            description=row.description,
            user=row.user,
            created_at=row.created_at,
            updated_at=row.updated_at,
            status=ModelVersionStatus(row.status),
            tags=dict(sorted(tags[row.id].items())),
            aliases=sorted(aliases[row.id]),
        )
        for row in rows
    ]


def event_from_row(row: sa.Row[Any], name: str) -> AliasEvent:
    return AliasEvent(
        name=name,
        alias=row.alias,
        from_version=row.from_version,
        to_version=row.to_version,
        user=row.user,
        reason=row.reason,
        created_at=row.created_at,
        id=row.id,
    )


def evaluation_from_row(row: sa.Row[Any]) -> Evaluation:
    return Evaluation(
        id=row.id,
        model_uri=row.model_uri,
        model_name=row.model_name,
        model_version=row.model_version,
        dataset=row.dataset,
        dataset_version=row.dataset_version,
        task=row.task,
        target=row.target,
        metrics=mc.decode_metrics(row.metrics),
        details=row.details,
        plots=dict(row.plots),
        row_count=row.row_count,
        user=row.user,
        created_at=row.created_at,
    )


def decision_from_row(row: sa.Row[Any], name: str) -> PromotionDecision:
    return PromotionDecision(
        id=row.id,
        name=name,
        alias=row.alias,
        candidate_version=row.candidate_version,
        incumbent_version=row.incumbent_version,
        metric=row.metric,
        greater_is_better=bool(row.greater_is_better),
        candidate_score=row.candidate_score,
        incumbent_score=row.incumbent_score,
        min_delta=row.min_delta,
        thresholds=dict(row.thresholds),
        promoted=bool(row.promoted),
        reason=row.reason,
        candidate_evaluation_id=row.candidate_evaluation_id,
        incumbent_evaluation_id=row.incumbent_evaluation_id,
        dataset=row.dataset,
        dataset_version=row.dataset_version,
        user=row.user,
        created_at=row.created_at,
    )
