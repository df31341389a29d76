"""Model registry: registered models, versions, aliases and their audit trail,
evaluations and promotion decisions.

Revision ID: 0004
Revises: 0003
Create Date: 2025-03-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(32)
# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid alias).
BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _model_fk(table: str, ondelete: str | None = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id"],
        ["registered_models.id"],
        name=f"fk_{table}_model_id_registered_models",
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_registered_models"),
        sa.UniqueConstraint("name", name="uq_registered_models_name"),
    )
    op.create_table(
        "registered_model_tags",
        sa.Column("model_id", ID, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "key", name="pk_registered_model_tags"),
        _model_fk("registered_model_tags"),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("model_id", ID, nullable=False),
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
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_model_versions"),
        _model_fk("model_versions", ondelete=None),
        sa.UniqueConstraint("model_id", "version", name="uq_model_versions_model_id_version"),
        sa.UniqueConstraint("idempotency_key", name="uq_model_versions_idempotency_key"),
    )
    op.create_index(
        "ix_model_versions_model_id_status_version",
        "model_versions",
        ["model_id", "status", "version"],
    )
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])
    op.create_table(
        "model_version_tags",
        sa.Column("model_version_id", ID, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("model_version_id", "key", name="pk_model_version_tags"),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name="fk_model_version_tags_model_version_id_model_versions",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "model_aliases",
        sa.Column("model_id", ID, nullable=False),
        sa.Column("alias", sa.String(250), nullable=False),
        sa.Column("model_version_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "alias", name="pk_model_aliases"),
        _model_fk("model_aliases"),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name="fk_model_aliases_model_version_id_model_versions",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_model_aliases_model_version_id", "model_aliases", ["model_version_id"])
    op.create_table(
        "alias_events",
        sa.Column("seq", BigIntPK, nullable=False, autoincrement=True),
        sa.Column("id", ID, nullable=False),
        sa.Column("model_id", ID, nullable=False),
        sa.Column("alias", sa.String(250), nullable=False),
        sa.Column("from_version", sa.Integer, nullable=True),
        sa.Column("to_version", sa.Integer, nullable=True),
        sa.Column("user", sa.String(256), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_alias_events"),
        sa.UniqueConstraint("id", name="uq_alias_events_id"),
        _model_fk("alias_events"),
    )
    op.create_index(
        "ix_alias_events_model_id_alias_seq", "alias_events", ["model_id", "alias", "seq"]
    )
    op.create_table(
        "evaluations",
        sa.Column("seq", BigIntPK, nullable=False, autoincrement=True),
        sa.Column("id", ID, nullable=False),
        sa.Column("model_uri", sa.Text, nullable=False),
        sa.Column("model_name", sa.String(256), nullable=True),
        sa.Column("model_version", sa.Integer, nullable=True),
        sa.Column("dataset", sa.String(256), nullable=True),
        sa.Column("dataset_version", sa.Integer, nullable=True),
        sa.Column("task", sa.String(256), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("plots", sa.JSON, nullable=False),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("user", sa.String(256), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_evaluations"),
        sa.UniqueConstraint("id", name="uq_evaluations_id"),
    )
    op.create_index(
        "ix_evaluations_model_name_model_version_seq",
        "evaluations",
        ["model_name", "model_version", "seq"],
    )
    op.create_table(
        "promotion_decisions",
        sa.Column("seq", BigIntPK, nullable=False, autoincrement=True),
        sa.Column("id", ID, nullable=False),
        sa.Column("model_id", ID, nullable=False),
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
        sa.PrimaryKeyConstraint("seq", name="pk_promotion_decisions"),
        sa.UniqueConstraint("id", name="uq_promotion_decisions_id"),
        _model_fk("promotion_decisions"),
    )
    op.create_index(
        "ix_promotion_decisions_model_id_alias_seq",
        "promotion_decisions",
        ["model_id", "alias", "seq"],
    )


def downgrade() -> None:
    op.drop_table("promotion_decisions")
    op.drop_table("evaluations")
    op.drop_table("alias_events")
    op.drop_table("model_aliases")
    op.drop_table("model_version_tags")
    op.drop_table("model_versions")
    op.drop_table("registered_model_tags")
    op.drop_table("registered_models")
