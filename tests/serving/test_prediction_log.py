"""Prediction logging: queued without blocking, written as Parquet blobs, indexed, read back
with feedback joined; bounded, sampled, and counted when it must drop."""

from __future__ import annotations

import io
import random
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.errors import InvalidInputError
from shipyard.monitoring.feedback import record_feedback
from shipyard.monitoring.prediction_log import (
    META_COLUMNS,
    PredictionLogger,
    feature_columns,
    iter_prediction_logs,
    read_prediction_logs,
)
from shipyard.tracking.client import Client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    with Client(str(tmp_path / "store")) as c:
        yield c


def _submit(
    logger: PredictionLogger,
    rid: str,
    ts: int,
    x: np.ndarray,
    version: int | None = 1,
    **kwargs: object,
) -> None:
    outputs = np.argmax(x, axis=1) if x.ndim == 2 else x.astype(np.int64)
    logger.submit(rid, ts, version, "/v2/models/m/infer", x, outputs, 1.5, **kwargs)  # type: ignore[arg-type]


def test_tensor_predictions_are_written_indexed_and_read_back(client: Client) -> None:
    logger = PredictionLogger(client, "digits", flush_seconds=60)
    x1 = np.array([[0.1, 0.9, 0.0]])
    x2 = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    _submit(logger, "r1", 1000, x1, probabilities=np.array([[0.2, 0.8, 0.0]]))
    _submit(logger, "r2", 2000, x2, probabilities=np.array([[0.6, 0.3, 0.1], [0.1, 0.1, 0.8]]))
    assert logger.flush(10)
    assert (logger.logged, logger.files, logger.dropped, logger.pending) == (3, 1, 0, 0)

    [batch] = client.store.list_prediction_log_batches("digits")
    assert (batch.model_version, batch.row_count) == (1, 3)
    assert (batch.min_timestamp, batch.max_timestamp) == (1000, 2000)
    # The batch is a plain Parquet file in the blob store.
    raw = pq.read_table(pa.BufferReader(b"".join(client.blob_store.open(batch.digest))))
    assert raw.num_rows == 3

    table = read_prediction_logs(client, "digits")
    assert table.column_names == [
        *META_COLUMNS,
        "input_0",
        "input_1",
        "input_2",
        "prediction",
        "probability_0",
        "probability_1",
        "probability_2",
        "label",
    ]
    rows = table.to_pylist()
    assert [(r["request_id"], r["row"], r["timestamp"]) for r in rows] == [
        ("r1", 0, 1000),
        ("r2", 0, 2000),
        ("r2", 1, 2000),
    ]
    assert [r["prediction"] for r in rows] == [1, 0, 2]
    assert [r["input_2"] for r in rows] == [0.0, 0.1, 0.8]
    assert rows[2]["probability_2"] == 0.8
    assert {r["endpoint"] for r in rows} == {"/v2/models/m/infer"}
    assert {r["latency_ms"] for r in rows} == {1.5}
    assert {r["model_version"] for r in rows} == {1}
    assert [r["label"] for r in rows] == [None, None, None]
    assert feature_columns(table) == ["input_0", "input_1", "input_2"]
    logger.close()


def test_time_window_last_n_and_version_select_rows(client: Client) -> None:
    with PredictionLogger(client, "m", flush_seconds=60) as logger:
        for i in range(10):
            _submit(logger, f"a{i}", 1000 + i, np.array([[float(i), 0.0]]), version=1)
        assert logger.flush()
        for i in range(10):
            _submit(logger, f"b{i}", 1005 + i, np.array([[float(i), 1.0]]), version=2)
        assert logger.flush()
    # One file per flush (each flush held one version).
    assert len(client.store.list_prediction_log_batches("m")) == 2

    window = read_prediction_logs(client, "m", since_ms=1003, until_ms=1006)
    assert window.column("request_id").to_pylist() == ["a3", "a4", "a5", "b0", "a6", "b1"]
    newest = read_prediction_logs(client, "m", last_n=3)
    assert newest.column("request_id").to_pylist() == ["b7", "b8", "b9"]
    v1 = read_prediction_logs(client, "m", version=1, last_n=2)
    assert v1.column("request_id").to_pylist() == ["a8", "a9"]
    parts = list(iter_prediction_logs(client, "m", since_ms=1012))
    assert [p.num_rows for p in parts] == [3]
    with pytest.raises(InvalidInputError, match="last_n"):
        read_prediction_logs(client, "m", last_n=0)
    assert read_prediction_logs(client, "never-logged").num_rows == 0


def test_feedback_labels_are_joined_by_request_id(client: Client) -> None:
    with PredictionLogger(client, "m", flush_seconds=60) as logger:
        _submit(logger, "one", 1000, np.array([[1.0, 0.0]]))
        _submit(logger, "two", 1001, np.array([[0.0, 1.0], [1.0, 0.0]]))
        _submit(logger, "three", 1002, np.array([[0.0, 1.0]]))
        assert logger.flush()
    # A list label for a request of two rows labels each row; a label for a
    # request id of any model (None) counts too.
    record_feedback(client, "m", [("one", 0), ("two", [1, 1])])
    record_feedback(client, None, [("three", 1)])

    table = read_prediction_logs(client, "m")
    assert table.column("label").to_pylist() == [0, 1, 1, 1]
    accuracy = np.mean(
        np.asarray(table.column("label").to_pylist()) == table.column("prediction").to_numpy()
    )
    assert accuracy == 0.75
    assert "label" not in read_prediction_logs(client, "m", with_feedback=False).column_names


def test_table_inputs_keep_their_column_names(client: Client) -> None:
    frame = pd.DataFrame({"city": ["Oslo", "Rome"], "age": [30, 40], "timestamp": [1, 2]})
    with PredictionLogger(client, "scorer", flush_seconds=60) as logger:
        logger.submit("t1", 5000, None, "/invocations", frame, np.array([70.0, 80.0]), 2.0)
        assert logger.flush()
    table = read_prediction_logs(client, "scorer")
    # A feature named like a log column is prefixed so that both survive.
    assert feature_columns(table) == ["city", "age", "input.timestamp"]
    assert table.column("city").to_pylist() == ["Oslo", "Rome"]
    assert table.column("input.timestamp").to_pylist() == [1, 2]
    assert table.column("timestamp").to_pylist() == [5000, 5000]
    assert table.column("model_version").to_pylist() == [None, None]


def test_wide_and_named_tensor_inputs(client: Client) -> None:
    with PredictionLogger(client, "wide", flush_seconds=60) as logger:
        logger.submit(
            "w", 1, 1, "/x", np.zeros((2, 2000)), np.zeros((2, 3)), 1.0
        )  # 2,000 values a row: one list column; 3 outputs: prediction_0..2
        assert logger.flush()
    table = read_prediction_logs(client, "wide")
    assert "input" in table.column_names and "input_0" not in table.column_names
    assert len(table.column("input")[0].as_py()) == 2000
    assert {"prediction_0", "prediction_1", "prediction_2"} <= set(table.column_names)

    with PredictionLogger(client, "named", input_names=["a", "b"], flush_seconds=60) as logger:
        _submit(logger, "n", 1, np.array([[1.0, 2.0]]))
        assert logger.flush()
    assert feature_columns(read_prediction_logs(client, "named")) == ["a", "b"]


def test_a_flush_happens_by_itself_after_flush_seconds(client: Client) -> None:
    with PredictionLogger(client, "timer", flush_seconds=0.2) as logger:
        _submit(logger, "r", 1, np.array([[1.0]]))
        deadline = time.monotonic() + 10
        while logger.logged == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert logger.logged == 1


def test_flush_rows_triggers_a_write_before_the_timer(client: Client) -> None:
    with PredictionLogger(client, "rows", flush_rows=5, flush_seconds=3600) as logger:
        for i in range(5):
            _submit(logger, f"r{i}", i, np.array([[1.0]]))
        deadline = time.monotonic() + 10
        while logger.logged < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert logger.logged == 5


def test_sampling_is_per_request(client: Client) -> None:
    random.seed(7)
    with PredictionLogger(client, "sampled", sample=0.25, flush_seconds=60) as logger:
        for i in range(2000):
            _submit(logger, f"r{i}", i, np.array([[1.0, 2.0], [3.0, 4.0]]))
        assert logger.flush()
        # Whole requests are kept or left out: always both rows of one.
        assert logger.logged % 2 == 0
        assert 350 * 2 <= logger.logged <= 650 * 2
        assert logger.dropped == 0
    with PredictionLogger(client, "none", sample=0.0, flush_seconds=60) as logger:
        _submit(logger, "r", 1, np.array([[1.0]]))
        assert logger.flush()
        assert logger.logged == 0


def test_a_full_queue_drops_and_counts_and_submit_stays_fast(client: Client) -> None:
    # A server that refuses connections: the store is down.
    from shipyard.store.rest.blobs import RestBlobStore
    from shipyard.store.rest.http import RetryPolicy
    from shipyard.store.rest.store import RestStore
    from tests.support.live_server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    down = Client(
        store=RestStore(url, retry=RetryPolicy(attempts=1)),
        blob_store=RestBlobStore(url, retry=RetryPolicy(attempts=1)),
    )
    logger = PredictionLogger(down, "m", max_queue=100, flush_rows=10, flush_seconds=0.05)
    x = np.array([[1.0, 2.0]])
    started = time.perf_counter()
    for i in range(5000):
        _submit(logger, f"r{i}", i, x)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"5,000 submits took {elapsed:.2f}s"
    assert logger.dropped >= 4900  # at most max_queue rows are held
    assert logger.pending <= 100
    assert not logger.flush(0.5)  # nothing can be stored
    logger.close(timeout=10)
    assert logger.logged == 0
    assert logger.dropped == 5000  # what was queued is counted at close
    _submit(logger, "late", 1, x)
    assert logger.dropped == 5001


def test_submit_never_raises(client: Client) -> None:
    with PredictionLogger(client, "bad", flush_seconds=60) as logger:
        logger.submit("r", 1, 1, "/x", np.zeros((1, 2)), None, 1.0)  # type: ignore[arg-type]
        assert logger.dropped == 1
        # Inputs of 2 rows for 3 outputs cannot be a table: that request is dropped,
        # the others of the same flush are kept.
        logger.submit("bad", 1, 2, "/x", np.zeros((2, 2)), np.zeros(3), 1.0)
        _submit(logger, "good", 1, np.array([[1.0, 0.0]]))
        assert logger.flush()
        assert logger.logged == 1
        assert logger.dropped == 4


@pytest.mark.parametrize(
    "kwargs",
    [{"sample": 1.5}, {"sample": -0.1}, {"max_queue": 0}, {"flush_rows": 0}, {"flush_seconds": 0}],
)
def test_bad_settings_are_refused(client: Client, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        PredictionLogger(client, "m", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="model name"):
        PredictionLogger(client, "a/b")


def test_gc_keeps_logged_files_until_their_batches_are_deleted(client: Client) -> None:
    from shipyard.data.gc import collect_garbage
    from shipyard.store.artifacts import FsspecBlobStore

    with PredictionLogger(client, "kept", flush_seconds=60) as logger:
        _submit(logger, "r", 1000, np.array([[1.0, 2.0]]))
        assert logger.flush()
    [batch] = client.store.list_prediction_log_batches("kept")
    report = client.blob_store.put(io.BytesIO(b'{"drift": false}'))[0]
    client.store.create_report("kept", 1, False, 0.0, {}, report)
    blobs = client.blob_store
    assert isinstance(blobs, FsspecBlobStore)

    collect_garbage(client.store, blobs, grace_seconds=0)
    assert blobs.exists(batch.digest) and blobs.exists(report)

    assert client.store.delete_prediction_log_batches("kept", before_ms=2000) == 1
    removed = collect_garbage(client.store, blobs, grace_seconds=0).removed
    assert batch.digest in {blob.digest for blob in removed}
    assert not blobs.exists(batch.digest) and blobs.exists(report)
