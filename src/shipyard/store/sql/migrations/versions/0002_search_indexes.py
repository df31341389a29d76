"""Indexes that search filters and sorts use; idempotency keys of applied batches.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("params", "tags"):
        if op.get_bind().dialect.name == "postgresql":
            # A btree row holds ~2.7 kB at most: long values cannot be in the index.
            op.create_index(f"ix_{table}_key_run_id", table, ["key", "run_id"])
        else:
            op.create_index(f"ix_{table}_key_value", table, ["key", "value"])
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value", "run_id"])
    op.create_index("ix_artifacts_digest", "artifacts", ["digest"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_idempotency_keys"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_artifacts_digest", table_name="artifacts")
    op.drop_index("ix_latest_metrics_key_value", table_name="latest_metrics")
    for table in ("tags", "params"):
        if op.get_bind().dialect.name == "postgresql":
            op.drop_index(f"ix_{table}_key_run_id", table_name=table)
        else:
            op.drop_index(f"ix_{table}_key_value", table_name=table)
