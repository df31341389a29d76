"""Batch inference: a model over a Parquet or CSV file, in chunks, into a Parquet or CSV file.

::

    shipyard predict models:/digits@production --input pixels.parquet --output scored.csv

The input is read as a stream of ``chunk_size``-row chunks (Parquet row groups,
CSV blocks), so a file far larger than memory scores in constant memory. Each
output row is the input row (or, with ``keep_inputs=False``, nothing of it)
followed by its prediction: ``prediction`` for one value a row,
``prediction_0 ..`` for several, and ``probability_<j>`` with ``proba``. The
output is written to a temporary file beside the target and renamed at the
end: an interrupted run leaves no half-written output.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from shipyard.errors import InvalidInputError, NotFoundError, ShipyardError

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

    from shipyard.models.predictor import Predictor
    from shipyard.tracking.client import Client

__all__ = ["DEFAULT_CHUNK_SIZE", "BatchResult", "predict_file", "predict_table_file"]

DEFAULT_CHUNK_SIZE = 10_000
_PARQUET = (".parquet", ".pq")
_CSV = (".csv",)
# CSV is read in blocks of this many bytes, then cut into chunks of rows.
_CSV_BLOCK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BatchResult:
    rows: int
    chunks: int
    seconds: float
    output: Path

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def _kind(path: Path, what: str) -> str:
    name = path.name.lower()
    if name.endswith(_PARQUET):
        return "parquet"
    if name.endswith(_CSV):
        return "csv"
    raise InvalidInputError(f"{what} {str(path)!r} must be a .parquet or .csv file")


class _Reader:
    """Chunks of at most ``chunk_size`` rows of the input, and how far it has read."""

    def __init__(self, path: Path, chunk_size: int) -> None:
        self.path = path
        self.chunk_size = chunk_size
        self.kind = _kind(path, "input")
        if not path.is_file():
            raise NotFoundError(f"input file {str(path)!r} does not exist")
        self._handle: BinaryIO | None = None
        self.total: int  # rows (Parquet) or bytes (CSV)
        if self.kind == "parquet":
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            try:
                self._parquet = pq.ParquetFile(path)
            except Exception as exc:
                raise InvalidInputError(f"{path} is not a readable Parquet file: {exc}") from None
            self.total = self._parquet.metadata.num_rows
            self.schema: pa.Schema | None = self._parquet.schema_arrow
        else:
            self.total = path.stat().st_size
            self.schema = None
        self.done = 0

    @property
    def unit(self) -> str:
        return "rows" if self.kind == "parquet" else "bytes"

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        if self.kind == "parquet":
            for batch in self._parquet.iter_batches(batch_size=self.chunk_size):
                self.done += batch.num_rows
                yield batch
            return
        yield from self._csv_batches()

    def _csv_batches(self) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        import pyarrow.csv as pacsv  # type: ignore[import-untyped]

        with self.path.open("rb") as handle:
            try:
                reader = pacsv.open_csv(
                    handle, read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES)
                )
                pending: list[pa.RecordBatch] = []
                rows = 0
                for block in reader:
                    pending.append(block)
                    rows += block.num_rows
                    while rows >= self.chunk_size:
                        table = pa.Table.from_batches(pending)
                        head = table.slice(0, self.chunk_size)
                        rest = table.slice(self.chunk_size)
                        self.done = handle.tell()
                        yield from head.combine_chunks().to_batches()
                        pending = rest.combine_chunks().to_batches() if rest.num_rows else []
                        rows = rest.num_rows
            except pa.ArrowInvalid as exc:
                raise InvalidInputError(f"{self.path} is not a readable CSV file: {exc}") from None
            if rows:
                yield from pa.Table.from_batches(pending).combine_chunks().to_batches()
            self.done = self.total


class _Writer:
    """Parquet or CSV output, written to a temporary file and renamed by :meth:`commit`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kind = _kind(path, "output")
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise NotFoundError(f"output folder {str(folder)!r} does not exist")
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
        os.close(handle)
        self.temp = Path(name)
        self._writer: Any = None
        self._schema: pa.Schema | None = None

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._schema = table.schema
            if self.kind == "parquet":
                import pyarrow.parquet as pq

                self._writer = pq.ParquetWriter(self.temp, table.schema, compression="zstd")
            else:
                import pyarrow.csv as pacsv

                self._writer = pacsv.CSVWriter(self.temp, table.schema)
        elif table.schema != self._schema:
            table = table.cast(self._schema)
        self._writer.write_table(table)

    def commit(self, empty_schema: pa.Schema | None) -> None:
        if self._writer is None and empty_schema is not None:
            self.write(empty_schema.empty_table())
        if self._writer is not None:
            self._writer.close()
        os.replace(self.temp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            if self._writer is not None:
                self._writer.close()
        self.temp.unlink(missing_ok=True)


def _output_columns(
    values: np.ndarray[Any, Any], prefix: str, single_name: str | None
) -> dict[str, np.ndarray[Any, Any]]:
    if values.ndim == 1:
        return {single_name or prefix: values}
    flat = values.reshape(len(values), -1)
    if flat.shape[1] == 1:
        return {single_name or prefix: flat[:, 0]}
    return {f"{prefix}_{j}": flat[:, j] for j in range(flat.shape[1])}


def _score(
    model: Predictor,
    batch: pa.RecordBatch,
    first_row: int,
    *,
    proba: bool,
    keep_inputs: bool,
    prediction_column: str,
) -> pa.Table:
    import pyarrow as pa

    frame = batch.to_pandas()
    try:
        prepared = model.prepare(frame)
        predictions = np.asarray(model.predict_prepared(prepared))
        probabilities = np.asarray(model.predict_proba_prepared(prepared)) if proba else None
    except ShipyardError as exc:
        last = first_row + batch.num_rows - 1
        raise type(exc)(f"rows {first_row}-{last}: {exc.message}") from None
    if len(predictions) != batch.num_rows:
        raise InvalidInputError(
            f"the model gave {len(predictions)} predictions for {batch.num_rows} rows"
        )
    columns: dict[str, Any] = {}
    if keep_inputs:
        columns = {name: batch.column(i) for i, name in enumerate(batch.schema.names)}
    outputs = _output_columns(predictions, "prediction", prediction_column)
    if probabilities is not None:
        outputs.update(
            _output_columns(probabilities.reshape(len(probabilities), -1), "probability", None)
        )
    for name, values in outputs.items():
        if name in columns:
            raise InvalidInputError(
                f"the input already has a column {name!r}; name the prediction column "
                "otherwise (--prediction-column) or leave the inputs out"
            )
        columns[name] = pa.array(values)
    return pa.table(columns)


def _empty_schema(reader: _Reader, keep_inputs: bool, prediction_column: str) -> pa.Schema:
    """The output of an input without rows: its columns and a prediction column of nulls."""
    import pyarrow as pa

    fields = list(reader.schema) if keep_inputs and reader.schema is not None else []
    return pa.schema([*fields, pa.field(prediction_column, pa.null())])


def predict_table_file(
    model: Predictor,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    proba: bool = False,
    keep_inputs: bool = True,
    prediction_column: str = "prediction",
    progress: bool = False,
) -> BatchResult:
    """Score ``input_path`` with a loaded model into ``output_path``; see the module docstring."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidInputError(f"chunk size must be a positive integer, got {chunk_size!r}")
    if proba and not model.has_predict_proba:
        raise InvalidInputError(f"{model.uri} has no predict_proba: leave out --proba")
    source, target = Path(input_path), Path(output_path)
    reader = _Reader(source, chunk_size)
    if source.resolve() == target.resolve():
        raise InvalidInputError("the output must not be the input file")
    writer = _Writer(target)
    started = time.perf_counter()
    rows = chunks = 0
    try:
        with _progress(progress, reader) as advance:
            for batch in reader:
                table = _score(
                    model,
                    batch,
                    rows,
                    proba=proba,
                    keep_inputs=keep_inputs,
                    prediction_column=prediction_column,
                )
                writer.write(table)
                rows += batch.num_rows
                chunks += 1
                advance(reader.done)
        writer.commit(None if rows else _empty_schema(reader, keep_inputs, prediction_column))
    except BaseException:
        writer.abort()
        raise
    return BatchResult(rows, chunks, time.perf_counter() - started, target)


def predict_file(
    model_uri: str,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    proba: bool = False,
    keep_inputs: bool = True,
    prediction_column: str = "prediction",
    trust: bool = False,
    progress: bool = False,
    client: Client | None = None,
) -> BatchResult:
    """Load ``model_uri`` (``models:/...``, ``runs:/...``) and score a file with it."""
    from shipyard.models import load

    _kind(Path(input_path), "input")
    _kind(Path(output_path), "output")
    model = load(model_uri, trust=trust, client=client)
    return predict_table_file(
        model,
        input_path,
        output_path,
        chunk_size=chunk_size,
        proba=proba,
        keep_inputs=keep_inputs,
        prediction_column=prediction_column,
        progress=progress,
    )


@contextlib.contextmanager
def _progress(show: bool, reader: _Reader) -> Iterator[Any]:
    """A function taking how far the reader got; a rich bar on stderr when ``show``."""
    if not show:
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns: list[Any] = [TextColumn("scoring"), BarColumn()]
    columns.append(
        MofNCompleteColumn() if reader.unit == "rows" else TextColumn("{task.percentage:>3.0f}%")
    )
    columns += [TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("scoring", total=reader.total)
        yield lambda done: bar.update(task, completed=done)
