"""Data versioning: datasets, their versions and labels, and run inputs (lineage).

Revision ID: 0003
Revises: 0002
Create Date: 2025-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_datasets"),
        sa.UniqueConstraint("name", name="uq_datasets_name"),
    )
    op.create_table(
        "dataset_tags",
        sa.Column("dataset_id", ID, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "key", name="pk_dataset_tags"),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_dataset_tags_dataset_id_datasets",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("dataset_id", ID, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("manifest_digest", sa.String(64), nullable=False),
        sa.Column("file_count", sa.BigInteger, nullable=False),
        sa.Column("total_size", sa.BigInteger, nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("author", sa.String(256), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("parent_version", sa.Integer, nullable=True),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("profile", sa.JSON, nullable=True),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_versions"),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_dataset_versions_dataset_id_datasets"
        ),
        sa.UniqueConstraint("dataset_id", "version", name="uq_dataset_versions_dataset_id_version"),
        sa.UniqueConstraint("idempotency_key", name="uq_dataset_versions_idempotency_key"),
    )
    op.create_index("ix_dataset_versions_manifest_digest", "dataset_versions", ["manifest_digest"])
    op.create_table(
        "dataset_version_tags",
        sa.Column("dataset_id", ID, nullable=False),
        sa.Column("tag", sa.String(250), nullable=False),
        sa.Column("dataset_version_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "tag", name="pk_dataset_version_tags"),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name="fk_dataset_version_tags_dataset_id_datasets",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name="fk_dataset_version_tags_dataset_version_id_dataset_versions",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_dataset_version_tags_dataset_version_id",
        "dataset_version_tags",
        ["dataset_version_id"],
    )
    op.create_table(
        "run_inputs",
        sa.Column("run_id", ID, nullable=False),
        sa.Column("dataset_version_id", ID, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "dataset_version_id", name="pk_run_inputs"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_run_inputs_run_id_runs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name="fk_run_inputs_dataset_version_id_dataset_versions",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_run_inputs_dataset_version_id", "run_inputs", ["dataset_version_id"])


def downgrade() -> None:
    op.drop_table("run_inputs")
    op.drop_table("dataset_version_tags")
    op.drop_table("dataset_versions")
    op.drop_table("dataset_tags")
    op.drop_table("datasets")
