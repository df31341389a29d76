"""Alembic migrations of the SQL schema, applied when a SqlStore opens a database.

A fresh database is built at the head revision; an older one is upgraded in
place. Several processes may open one database at once: the upgrade runs in
one transaction that first takes a lock (SQLite's write lock, a PostgreSQL
advisory lock), so the second one finds the work done.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from shipyard.store.sql import tables_models as _tables_models  # noqa: F401  (adds its tables)
from shipyard.store.sql import tables_monitoring as _tables_monitoring  # noqa: F401  (same)
from shipyard.store.sql.engine import write_transaction
from shipyard.store.sql.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "HEAD_REVISION",
    "alembic_config",
    "current_revision",
    "head_revision",
    "schema_diff",
    "upgrade",
]

# The newest revision in versions/. Opening an up-to-date database compares
# against this constant, so alembic is imported only when there is work to do;
# a test keeps it equal to the scripts' head.
HEAD_REVISION = "0005"

_FOLDER = Path(__file__).resolve().parent
# Any fixed 64-bit number; it names the lock that serializes migrations on PostgreSQL.
_PG_LOCK_ID = 0x5348_4950_5941_5244 & 0x7FFF_FFFF_FFFF_FFFF


def alembic_config(connection: sa.Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration without an .ini file, for our own scripts folder."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_FOLDER))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The head revision according to the scripts themselves (slow: imports alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to ``revision``; a no-op when it is there already."""
    target = HEAD_REVISION if revision == "head" else revision
    with engine.connect() as conn:
        if current_revision(conn) == target:
            return
    from alembic import command

    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        command.upgrade(alembic_config(conn), target)


def schema_diff(conn: sa.Connection) -> list[Any]:
    """Differences between the database's schema and ``tables.py`` (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    dialect = conn.dialect.name

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table" and name == "alembic_version":
            return False
        condition = getattr(obj, "_ddl_if", None) if not reflected else None
        return condition is None or condition.dialect in (None, dialect)

    context = MigrationContext.configure(
        conn, opts={"include_object": include, "compare_type": True}
    )
    return list(compare_metadata(context, metadata))
