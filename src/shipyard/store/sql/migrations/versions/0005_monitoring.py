"""Monitoring: the prediction log index, feedback labels, monitors and their reports.

Revision ID: 0005
Revises: 0004
Create Date: 2025-03-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "prediction_log_batches",
        sa.Column("id", ID, nullable=False),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_version", sa.Integer, nullable=True),
        sa.Column("min_timestamp", sa.BigInteger, nullable=False),
        sa.Column("max_timestamp", sa.BigInteger, nullable=False),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prediction_log_batches"),
        sa.UniqueConstraint(
            "model_name", "digest", name="uq_prediction_log_batches_model_name_digest"
        ),
    )
    op.create_index(
        "ix_prediction_log_batches_model_time",
        "prediction_log_batches",
        ["model_name", "max_timestamp"],
    )
    op.create_table(
        "feedback",
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("label", sa.JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("model_name", "request_id", name="pk_feedback"),
    )
    op.create_index("ix_feedback_model_created", "feedback", ["model_name", "created_at"])
    op.create_table(
        "monitors",
        sa.Column("id", ID, nullable=False),
        sa.Column("model_uri", sa.String(1024), nullable=False),
        sa.Column("every_seconds", sa.BigInteger, nullable=False),
        sa.Column("webhook", sa.Text, nullable=True),
        sa.Column("thresholds", sa.JSON, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("last_run_at", sa.BigInteger, nullable=True),
        sa.Column("next_run_at", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitors"),
    )
    op.create_index("ix_monitors_enabled_next_run_at", "monitors", ["enabled", "next_run_at"])
    op.create_table(
        "monitor_reports",
        sa.Column("id", ID, nullable=False),
        sa.Column("monitor_id", ID, nullable=True),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_version", sa.Integer, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("dataset_drift", sa.Boolean, nullable=False),
        sa.Column("drift_share", sa.Double, nullable=True),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("report_digest", sa.String(64), nullable=False),
        sa.Column("html_digest", sa.String(64), nullable=True),
        sa.Column("reference", sa.String(1024), nullable=True),
        sa.Column("window_start", sa.BigInteger, nullable=True),
        sa.Column("window_end", sa.BigInteger, nullable=True),
        sa.Column("row_count", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_monitor_reports"),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitors.id"],
            name="fk_monitor_reports_monitor_id_monitors",
            ondelete="SET NULL",
        ),
    )
    op.create_index(
        "ix_monitor_reports_model_created", "monitor_reports", ["model_name", "created_at"]
    )
    op.create_index(
        "ix_monitor_reports_monitor_created", "monitor_reports", ["monitor_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("monitor_reports")
    op.drop_table("monitors")
    op.drop_table("feedback")
    op.drop_table("prediction_log_batches")
