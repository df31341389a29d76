"""Arrow tables of logged predictions: built from queued requests, read back from the store.

The columns are documented in :mod:`shipyard.monitoring.prediction_log`.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from shipyard.store.monitoring_checks import MAX_FEEDBACK_ITEMS

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

    from shipyard.store.monitoring_base import PredictionLogBatch
    from shipyard.tracking.client import Client

__all__ = [
    "LABEL_COLUMN",
    "META_COLUMNS",
    "build_table",
    "feature_columns",
    "iter_prediction_logs",
    "read_prediction_logs",
]

META_COLUMNS = ("request_id", "row", "timestamp", "model_version", "endpoint", "latency_ms")
LABEL_COLUMN = "label"
# Past this many values a row, a tensor input is one list column, not one column each.
MAX_WIDE_COLUMNS = 1024
_OUTPUT_RE = re.compile(r"(prediction|probability)(_\d+)?")
_RESERVED = frozenset({*META_COLUMNS, LABEL_COLUMN})


class LoggedRequest(Protocol):
    """What the logger queues per request (``shipyard.monitoring.prediction_log._Entry``)."""

    request_id: str
    timestamp_ms: int
    model_version: int | None
    endpoint: str
    inputs: Any
    outputs: Any
    probabilities: Any
    latency_ms: float
    rows: int


def _is_output_name(name: str) -> bool:
    return _OUTPUT_RE.fullmatch(name) is not None


def feature_columns(table: pa.Table) -> list[str]:
    """The model-input columns of a prediction log table, in table order."""
    return [
        name for name in table.column_names if name not in _RESERVED and not _is_output_name(name)
    ]


def _feature_name(name: str) -> str:
    return f"input.{name}" if name in _RESERVED or _is_output_name(name) else name


# -- building ------------------------------------------------------------------------
def _array_columns(
    values: np.ndarray[Any, Any], prefix: str, names: Sequence[str] | None = None
) -> dict[str, pa.Array]:
    """Columns of an ``[n, ...]`` array: one, one per value of a row, or one list column."""
    import pyarrow as pa

    if values.ndim == 1:
        return {prefix: pa.array(values)}
    flat = values.reshape(len(values), -1)
    width = flat.shape[1]
    if width == 1 and names is None:
        return {prefix: pa.array(flat[:, 0])}
    if width > MAX_WIDE_COLUMNS:
        return {prefix: pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), width)}
    if names is None or len(names) != width:
        names = [f"{prefix}_{j}" for j in range(width)]
    # One contiguous copy, column-major: each column then converts without a copy.
    by_column = np.ascontiguousarray(flat.T)
    return {name: pa.array(by_column[j]) for j, name in enumerate(names)}


def _frame_columns(frame: Any) -> dict[str, pa.Array]:
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # A column of mixed Python objects: logged as text rather than lost.
        frame = frame.astype({c: str for c in frame.columns if frame[c].dtype == object})
        table = pa.Table.from_pandas(frame, preserve_index=False)
    return {
        _feature_name(str(name)): table.column(i).combine_chunks()
        for i, name in enumerate(table.column_names)
    }


def _group_key(entry: LoggedRequest) -> tuple[Any, ...]:
    """Requests whose arrays concatenate: same kind and trailing shape of each part."""

    def shape(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, np.ndarray):
            return ("array", value.shape[1:], value.dtype.kind)
        return ("frame", tuple(str(c) for c in getattr(value, "columns", ())))

    return (shape(entry.inputs), shape(entry.outputs), shape(entry.probabilities))


def _group_table(group: list[LoggedRequest], input_names: Sequence[str] | None) -> pa.Table:
    import pyarrow as pa

    counts = np.fromiter((e.rows for e in group), dtype=np.int64, count=len(group))
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    columns: dict[str, pa.Array] = {
        "request_id": pa.array(np.repeat(np.array([e.request_id for e in group]), counts)),
        "row": pa.array((np.arange(total) - starts).astype(np.int32)),
        "timestamp": pa.array(np.repeat([int(e.timestamp_ms) for e in group], counts)),
        "model_version": pa.array(
            np.repeat(np.array([e.model_version for e in group], dtype=object), counts),
            type=pa.int64(),
        ),
        "endpoint": pa.array(np.repeat(np.array([e.endpoint for e in group]), counts)),
        "latency_ms": pa.array(
            np.repeat([float(e.latency_ms) for e in group], counts), type=pa.float64()
        ),
    }
    first = group[0].inputs
    if isinstance(first, np.ndarray):
        inputs = np.concatenate([np.asarray(e.inputs) for e in group])
        features = _array_columns(inputs, "input", input_names)
        columns.update({_feature_name(k): v for k, v in features.items()})
    else:
        import pandas as pd

        columns.update(_frame_columns(pd.concat([e.inputs for e in group], ignore_index=True)))
    outputs = np.concatenate([np.asarray(e.outputs) for e in group])
    columns.update(_array_columns(outputs, "prediction"))
    if group[0].probabilities is not None:
        proba = np.concatenate([np.asarray(e.probabilities) for e in group])
        proba = proba.reshape(len(proba), -1)
        columns.update({f"probability_{j}": pa.array(proba[:, j]) for j in range(proba.shape[1])})
    for name, column in columns.items():
        if len(column) != total:
            raise ValueError(f"column {name!r} has {len(column)} rows, expected {total}")
    return pa.table(columns)


def build_table(entries: Sequence[LoggedRequest], input_names: Sequence[str] | None) -> pa.Table:
    """One table of the queued requests (rows in arrival order within each shape group)."""
    import pyarrow as pa

    if len({_group_key(entries[0]), _group_key(entries[-1])}) == 1:
        # The usual case, every request alike: one table, no grouping pass.
        try:
            return _group_table(list(entries), input_names)
        except (ValueError, TypeError):
            pass
    groups: dict[tuple[Any, ...], list[LoggedRequest]] = {}
    for entry in entries:
        groups.setdefault(_group_key(entry), []).append(entry)
    tables = [_group_table(group, input_names) for group in groups.values()]
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="permissive")


# -- reading -------------------------------------------------------------------------
def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    from shipyard.tracking.fluent import default_client

    return default_client()


def _read_batch(client: Client, batch: PredictionLogBatch) -> pa.Table:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    data = b"".join(client.blob_store.open(batch.digest))
    return pq.read_table(io.BytesIO(data))


def _between(table: pa.Table, since_ms: int | None, until_ms: int | None) -> pa.Table:
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    if since_ms is not None:
        table = table.filter(pc.greater_equal(table.column("timestamp"), since_ms))
    if until_ms is not None:
        table = table.filter(pc.less_equal(table.column("timestamp"), until_ms))
    return table


def iter_prediction_logs(
    client: Client | None,
    model_name: str,
    since_ms: int | None = None,
    until_ms: int | None = None,
    version: int | None = None,
    *,
    newest_first: bool = False,
) -> Iterator[pa.Table]:
    """One table per log file in the range, rows outside ``[since_ms, until_ms]`` left out.

    Files come oldest first (by their newest row), or newest first; only one file
    is held in memory at a time. No feedback is joined.
    """
    c = _client(client)
    batches = c.store.list_prediction_log_batches(
        model_name, since_ms, until_ms, version, newest_first=newest_first
    )
    for batch in batches:
        yield _between(_read_batch(c, batch), since_ms, until_ms)


def _concat(tables: list[pa.Table]) -> pa.Table:
    import pyarrow as pa

    if not tables:
        return pa.table(
            {
                "request_id": pa.array([], pa.string()),
                "row": pa.array([], pa.int32()),
                "timestamp": pa.array([], pa.int64()),
                "model_version": pa.array([], pa.int64()),
                "endpoint": pa.array([], pa.string()),
                "latency_ms": pa.array([], pa.float64()),
            }
        )
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="permissive")


def read_prediction_logs(
    client: Client | None,
    model_name: str,
    since_ms: int | None = None,
    until_ms: int | None = None,
    last_n: int | None = None,
    version: int | None = None,
    *,
    with_feedback: bool = True,
) -> pa.Table:
    """A model's logged predictions as one Arrow table, ordered by time.

    ``since_ms`` / ``until_ms`` bound the request time (inclusive); ``last_n``
    keeps the newest n rows (reading the newest files only); ``version`` one
    model version. With ``with_feedback``, a ``label`` column holds the label
    sent for each request (null where none came): a list label of a request of
    as many rows gives each row its own item.
    """
    from shipyard.errors import InvalidInputError

    if last_n is not None and (isinstance(last_n, bool) or not isinstance(last_n, int)):
        raise InvalidInputError(f"last_n must be a positive integer, got {last_n!r}")
    if last_n is not None and last_n < 1:
        raise InvalidInputError(f"last_n must be a positive integer, got {last_n!r}")
    c = _client(client)
    tables: list[pa.Table] = []
    if last_n is None:
        tables = list(iter_prediction_logs(c, model_name, since_ms, until_ms, version))
    else:
        tables = _newest(c, model_name, since_ms, until_ms, version, last_n)
    table = _concat(tables)
    table = table.sort_by(
        [("timestamp", "ascending"), ("request_id", "ascending"), ("row", "ascending")]
    )
    if last_n is not None and table.num_rows > last_n:
        table = table.slice(table.num_rows - last_n)
    if with_feedback:
        table = join_feedback(c, model_name, table)
    return table


def _newest(
    client: Client,
    model_name: str,
    since_ms: int | None,
    until_ms: int | None,
    version: int | None,
    last_n: int,
) -> list[pa.Table]:
    """Newest files until they surely hold the newest ``last_n`` rows.

    Files are listed newest first by their newest row; once ``last_n`` rows are
    read, a file whose newest row is older than the n-th newest row read can
    add nothing.
    """
    batches = client.store.list_prediction_log_batches(
        model_name, since_ms, until_ms, version, newest_first=True
    )
    tables: list[pa.Table] = []
    stamps: list[np.ndarray[Any, Any]] = []
    threshold: int | None = None
    for batch in batches:
        if threshold is not None and batch.max_timestamp < threshold:
            break
        table = _between(_read_batch(client, batch), since_ms, until_ms)
        tables.append(table)
        stamps.append(table.column("timestamp").to_numpy())
        seen = np.concatenate(stamps)
        if len(seen) >= last_n:
            threshold = int(np.partition(seen, len(seen) - last_n)[len(seen) - last_n])
    return tables


def _labels_column(labels: list[Any]) -> pa.Array:
    import pyarrow as pa

    try:
        return pa.array(labels)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        # Labels of several types (a number here, a string there): kept as JSON text.
        return pa.array([None if v is None else json.dumps(v) for v in labels], pa.string())


def join_feedback(client: Client | None, model_name: str, table: pa.Table) -> pa.Table:
    """``table`` with a ``label`` column from the feedback sent for its requests."""
    c = _client(client)
    if table.num_rows == 0:
        import pyarrow as pa

        return table.append_column(LABEL_COLUMN, pa.array([], pa.null()))
    request_ids = table.column("request_id").to_pylist()
    unique = list(dict.fromkeys(request_ids))
    found: dict[str, Any] = {}
    for start in range(0, len(unique), MAX_FEEDBACK_ITEMS):
        for item in c.store.get_feedback(model_name, unique[start : start + MAX_FEEDBACK_ITEMS]):
            found[item.request_id] = item.label
    rows_of: dict[str, int] = {}
    for request_id in request_ids:
        rows_of[request_id] = rows_of.get(request_id, 0) + 1
    positions = table.column("row").to_pylist()
    labels: list[Any] = []
    for request_id, position in zip(request_ids, positions, strict=True):
        label = found.get(request_id)
        # A list label of a request of several rows holds one label per row.
        several = rows_of[request_id] > 1 or position > 0
        if isinstance(label, list) and several and position < len(label):
            label = label[position]
        labels.append(label)
    if LABEL_COLUMN in table.column_names:
        table = table.drop_columns([LABEL_COLUMN])
    return table.append_column(LABEL_COLUMN, _labels_column(labels))
