"""The SQL schema, as SQLAlchemy Core tables.

Changes to this file need a matching Alembic migration in ``migrations/versions``;
a test compares the migrated schema with these tables.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid alias).
BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

ID = sa.String(32)  # uuid4 hex

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(256), nullable=False, unique=True),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

experiment_tags = sa.Table(
    "experiment_tags",
    metadata,
    sa.Column(
        "experiment_id",
        ID,
        sa.ForeignKey("experiments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("experiment_id", ID, sa.ForeignKey("experiments.id"), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger, nullable=True),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("parent_run_id", ID, nullable=True),
    sa.Column("user", sa.String(256), nullable=True),
    sa.Index("ix_runs_experiment_start", "experiment_id", "lifecycle_stage", "start_time"),
    sa.Index("ix_runs_parent_run_id", "parent_run_id"),
)

# PostgreSQL's btree rows hold at most ~2.7 kB, less than a long param or tag
# value, so there the value stays out of the index; SQLite has no such limit.
params = sa.Table(
    "params",
    metadata,
    sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Index("ix_params_key_value", "key", "value").ddl_if(dialect="sqlite"),
    sa.Index("ix_params_key_run_id", "key", "run_id").ddl_if(dialect="postgresql"),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Index("ix_tags_key_value", "key", "value").ddl_if(dialect="sqlite"),
    sa.Index("ix_tags_key_run_id", "key", "run_id").ddl_if(dialect="postgresql"),
)

# Full history. NaN cannot be stored faithfully by SQLite (it becomes NULL), so
# NaN is stored as value NULL with is_nan true; +-inf are stored as they are.
metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
    sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Index("ix_metrics_run_key_step", "run_id", "key", "step", "timestamp"),
)

# The latest point of each metric of a run (greatest step, then timestamp):
# what search filters and sorts on.
latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Index("ix_latest_metrics_key_value", "key", "value", "run_id"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Index("ix_artifacts_digest", "digest"),
)

# Batches already applied, so a retried request is stored once.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

# -- data versioning (revision 0003) -------------------------------------------
# A dataset is active while one of its versions is live; that is derived, not stored.
datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(256), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

dataset_tags = sa.Table(
    "dataset_tags",
    metadata,
    sa.Column("dataset_id", ID, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# The file list is a manifest blob in the blob store; a row stays small however
# many files the version holds, and identical manifests are stored once.
dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("dataset_id", ID, sa.ForeignKey("datasets.id"), nullable=False),
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
    # The Idempotency-Key of the request that created the version: a retry finds it.
    sa.Column("idempotency_key", sa.String(128), nullable=True, unique=True),
    sa.UniqueConstraint("dataset_id", "version"),
    sa.Index("ix_dataset_versions_manifest_digest", "manifest_digest"),
)

# A version label names exactly one version of its dataset; re-tagging moves it.
dataset_version_tags = sa.Table(
    "dataset_version_tags",
    metadata,
    sa.Column("dataset_id", ID, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag", sa.String(250), primary_key=True),
    sa.Column(
        "dataset_version_id",
        ID,
        sa.ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Index("ix_dataset_version_tags_dataset_version_id", "dataset_version_id"),
)

# Lineage: which dataset versions a run used.
run_inputs = sa.Table(
    "run_inputs",
    metadata,
    sa.Column("run_id", ID, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "dataset_version_id",
        ID,
        sa.ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_run_inputs_dataset_version_id", "dataset_version_id"),
)
