"""Monitoring tables (revision 0005), on the same MetaData as :mod:`shipyard.store.sql.tables`.

Changes here need a matching Alembic migration; a test compares the migrated
schema with the tables.
"""

from __future__ import annotations

import sqlalchemy as sa

from shipyard.store.sql.tables import ID, metadata

__all__ = ["feedback", "monitor_reports", "monitors", "prediction_log_batches"]

# The index of the Parquet files of logged predictions. The same file (digest)
# is indexed once per model, so a retried request adds no second row.
prediction_log_batches = sa.Table(
    "prediction_log_batches",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("model_name", sa.String(256), nullable=False),
    sa.Column("model_version", sa.Integer, nullable=True),
    sa.Column("min_timestamp", sa.BigInteger, nullable=False),
    sa.Column("max_timestamp", sa.BigInteger, nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("model_name", "digest"),
    sa.Index("ix_prediction_log_batches_model_time", "model_name", "max_timestamp"),
)

# Labels arrive after the prediction, keyed by the request id the server gave.
# model_name "" holds labels sent without a model: they match any model's request.
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("model_name", sa.String(256), primary_key=True),
    sa.Column("request_id", sa.String(128), primary_key=True),
    sa.Column("label", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_feedback_model_created", "model_name", "created_at"),
)

monitors = sa.Table(
    "monitors",
    metadata,
    sa.Column("id", ID, primary_key=True),
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
    sa.Index("ix_monitors_enabled_next_run_at", "enabled", "next_run_at"),
)

monitor_reports = sa.Table(
    "monitor_reports",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("monitor_id", ID, sa.ForeignKey("monitors.id", ondelete="SET NULL"), nullable=True),
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
    sa.Index("ix_monitor_reports_model_created", "model_name", "created_at"),
    sa.Index("ix_monitor_reports_monitor_created", "monitor_id", "created_at"),
)
