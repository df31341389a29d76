"""The model registry's tables (revision 0004), on the one MetaData of :mod:`tables`.

Changes here need a matching Alembic migration; a test compares the migrated
schema with the tables.

Alias events, evaluations and promotion decisions are listed in the order they
were written, which a millisecond timestamp cannot tell apart: each has an
autoincrement ``seq`` for that, and a uuid ``id`` for users to name it by.
"""

from __future__ import annotations

import sqlalchemy as sa

from shipyard.store.sql.tables import ID, BigIntPK, metadata

__all__ = [
    "alias_events",
    "evaluations",
    "model_aliases",
    "model_version_tags",
    "model_versions",
    "promotion_decisions",
    "registered_model_tags",
    "registered_models",
]

registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(256), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

registered_model_tags = sa.Table(
    "registered_model_tags",
    metadata,
    sa.Column(
        "model_id", ID, sa.ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# A version pins a package by its manifest's digest; the files are run artifacts.
model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("model_id", ID, sa.ForeignKey("registered_models.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("run_id", ID, nullable=True),
    sa.Column("package_digest", sa.String(64), nullable=False),
    sa.Column("flavor", sa.String(64), nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("user", sa.String(256), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # The Idempotency-Key of the request that created the version: a retry finds it.
    sa.Column("idempotency_key", sa.String(128), nullable=True, unique=True),
    sa.UniqueConstraint("model_id", "version"),
    # "latest": the newest READY version of a model.
    sa.Index("ix_model_versions_model_id_status_version", "model_id", "status", "version"),
    sa.Index("ix_model_versions_run_id", "run_id"),
)

model_version_tags = sa.Table(
    "model_version_tags",
    metadata,
    sa.Column(
        "model_version_id",
        ID,
        sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# An alias names exactly one version of its model; setting it again moves it.
model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column(
        "model_id", ID, sa.ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("alias", sa.String(250), primary_key=True),
    sa.Column(
        "model_version_id",
        ID,
        sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Index("ix_model_aliases_model_version_id", "model_version_id"),
)

# Every move of an alias, written in the transaction that moved it.
alias_events = sa.Table(
    "alias_events",
    metadata,
    sa.Column("seq", BigIntPK, primary_key=True, autoincrement=True),
    sa.Column("id", ID, nullable=False, unique=True),
    sa.Column(
        "model_id", ID, sa.ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("alias", sa.String(250), nullable=False),
    sa.Column("from_version", sa.Integer, nullable=True),
    sa.Column("to_version", sa.Integer, nullable=True),
    sa.Column("user", sa.String(256), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_alias_events_model_id_alias_seq", "model_id", "alias", "seq"),
)

# An evaluation may score a model that is not registered (runs:/...), so the model and
# dataset are named, not keyed; the store checks the names exist when it is written.
evaluations = sa.Table(
    "evaluations",
    metadata,
    sa.Column("seq", BigIntPK, primary_key=True, autoincrement=True),
    sa.Column("id", ID, nullable=False, unique=True),
    sa.Column("model_uri", sa.Text, nullable=False),
    sa.Column("model_name", sa.String(256), nullable=True),
    sa.Column("model_version", sa.Integer, nullable=True),
    sa.Column("dataset", sa.String(256), nullable=True),
    sa.Column("dataset_version", sa.Integer, nullable=True),
    sa.Column("task", sa.String(256), nullable=False),
    sa.Column("target", sa.String(256), nullable=False),
    # Non-finite scores are stored as the strings "NaN", "Infinity" and "-Infinity".
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("plots", sa.JSON, nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("user", sa.String(256), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_evaluations_model_name_model_version_seq", "model_name", "model_version", "seq"),
)

promotion_decisions = sa.Table(
    "promotion_decisions",
    metadata,
    sa.Column("seq", BigIntPK, primary_key=True, autoincrement=True),
    sa.Column("id", ID, nullable=False, unique=True),
    sa.Column(
        "model_id", ID, sa.ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("alias", sa.String(250), nullable=False),
    sa.Column("candidate_version", sa.Integer, nullable=False),
    sa.Column("incumbent_version", sa.Integer, nullable=True),
    sa.Column("metric", sa.String(250), nullable=False),
    sa.Column("greater_is_better", sa.Boolean, nullable=False),
    sa.Column("candidate_score", sa.Double, nullable=False),
    sa.Column("incumbent_score", sa.Double, nullable=True),
    sa.Column("min_delta", sa.Double, nullable=False),
    sa.Column("thresholds", sa.JSON, nullable=False),
    sa.Column("promoted", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("candidate_evaluation_id", ID, nullable=False),
    sa.Column("incumbent_evaluation_id", ID, nullable=True),
    sa.Column("dataset", sa.String(256), nullable=True),
    sa.Column("dataset_version", sa.Integer, nullable=True),
    sa.Column("user", sa.String(256), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_promotion_decisions_model_id_alias_seq", "model_id", "alias", "seq"),
)
