"""SqlStore behaviour beyond the contract: engine settings, URLs, limits, errors."""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from shipyard.entities import Metric, Param
from shipyard.errors import InvalidInputError, ServiceUnavailableError
from shipyard.store.sql import tables as t
from shipyard.store.sql.engine import BUSY_TIMEOUT_MS, create_engine, normalize_url
from shipyard.store.sql.store import SqlStore
from shipyard.validation import MAX_BATCH_METRICS


def test_sqlite_is_set_up_for_concurrent_writers(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": BUSY_TIMEOUT_MS,
        "synchronous": 1,  # NORMAL
    }


def test_sqlite_foreign_keys_are_enforced(tmp_path: Path) -> None:
    with SqlStore(f"sqlite:///{tmp_path / 'x.db'}") as store:
        engine = create_engine(store.url)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(t.params.insert().values(run_id="missing", key="k", value="v"))
        engine.dispose()


def test_urls_are_normalized() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite+pysqlite"
    with pytest.raises(InvalidInputError, match="mysql"):
        normalize_url("mysql://u@h/db")
    with pytest.raises(InvalidInputError):
        normalize_url("not a url")


@pytest.mark.postgres
def test_plain_postgresql_urls_use_psycopg(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with SqlStore(plain) as store:
        name = f"plain-url-{uuid.uuid4().hex}"
        experiment = store.create_experiment(name)
        assert store.get_experiment_by_name(name) == experiment


def test_an_unreachable_server_is_unavailable() -> None:
    with pytest.raises(ServiceUnavailableError):
        SqlStore("postgresql://nobody@127.0.0.1:1/shipyard")


def test_batch_size_limits(tmp_path: Path) -> None:
    with SqlStore(f"sqlite:///{tmp_path / 'x.db'}") as store:
        run = store.create_run(store.create_experiment("limits").id)
        with pytest.raises(InvalidInputError, match=str(MAX_BATCH_METRICS)):
            store.log_batch(run.id, metrics=[Metric("m", 1.0)] * (MAX_BATCH_METRICS + 1))
        store.log_batch(
            run.id, metrics=[Metric("m", 1.0, step=i) for i in range(MAX_BATCH_METRICS)]
        )
        assert len(store.get_metric_history(run.id, "m")) == MAX_BATCH_METRICS
        with pytest.raises(InvalidInputError):
            store.log_batch(run.id, params=[Param(f"p{i}", "v") for i in range(1001)])
        with pytest.raises(InvalidInputError):
            store.log_batch(run.id, idempotency_key="x" * 129)


def test_nan_is_stored_as_null_with_a_flag(tmp_path: Path) -> None:
    with SqlStore(f"sqlite:///{tmp_path / 'x.db'}") as store:
        run = store.create_run(store.create_experiment("nan").id)
        store.log_batch(run.id, metrics=[Metric("m", math.nan), Metric("m", math.inf, step=1)])
        engine = create_engine(store.url)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.metrics.c.value, t.metrics.c.is_nan).order_by(t.metrics.c.step)
            ).all()
        engine.dispose()
    assert [tuple(r) for r in rows] == [(None, True), (math.inf, False)]


def test_downsampling_a_bucket_of_nans_keeps_one(tmp_path: Path) -> None:
    values = [1.0] * 10 + [math.nan] * 80 + [2.0] * 10
    with SqlStore(f"sqlite:///{tmp_path / 'x.db'}") as store:
        run = store.create_run(store.create_experiment("nans").id)
        store.log_batch(run.id, metrics=[Metric("m", v, step=i) for i, v in enumerate(values)])
        sampled = store.get_metric_history(run.id, "m", max_points=12)
    assert len(sampled) <= 12
    assert any(math.isnan(m.value) for m in sampled)
    assert [m.step for m in sampled] == sorted(m.step for m in sampled)
