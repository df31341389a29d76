"""What the model pages read besides the registry: package manifests, examples, scores.

A version pins its package by the digest of ``shipyard-model.json``; the
manifest is read from the blob store and shown as it is. A manifest this
server cannot read (missing blob, another format) leaves its section with a
note instead of failing the page.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shipyard.entities import ArtifactEntry, Evaluation, ModelVersion
from shipyard.errors import ShipyardError
from shipyard.server.ui.charts import lower_is_better
from shipyard.server.ui.previews import read_head
from shipyard.store.base import BlobStore, Store

__all__ = [
    "MANIFEST_NAME",
    "EvaluationGroup",
    "Example",
    "Package",
    "evaluation_groups",
    "example_view",
    "input_example",
    "model_folders",
    "parse_package",
    "read_package",
    "versions_for_run",
]

MANIFEST_NAME = "shipyard-model.json"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_EXAMPLE_BYTES = 4 * 1024 * 1024
MAX_EXAMPLE_ROWS = 20
MAX_LINE_CHARS = 240
MAX_CELL_CHARS = 80
MAX_MODELS_SCANNED = 500
PAGE = 100


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    dtype: str
    shape: str


@dataclass(frozen=True, slots=True)
class PackageFile:
    name: str
    digest: str
    size: int | None


@dataclass(frozen=True, slots=True)
class Package:
    """The parts of a manifest the version page shows."""

    raw: dict[str, Any]
    flavor: str | None
    format: object
    signature_kind: str | None
    inputs: list[Spec]
    outputs: list[Spec]
    python: str | None
    packages: list[tuple[str, str]]
    files: list[PackageFile]
    datasets: list[tuple[str, int]]
    input_example: str | None
    predict_proba: bool | None
    artifact_path: str | None
    flavor_options: dict[str, Any] = field(default_factory=dict)


def _specs(raw: object) -> list[Spec]:
    specs = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            shape = item.get("shape")
            dims = shape if isinstance(shape, list) else []
            text = "[" + ", ".join("any" if d == -1 else str(d) for d in dims) + "]"
            specs.append(Spec(str(item.get("name", "")), str(item.get("dtype", "")), text))
    return specs


def _datasets(raw: object) -> list[tuple[str, int]]:
    found = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        name, version = item.get("dataset"), item.get("version")
        if isinstance(name, str) and isinstance(version, int) and not isinstance(version, bool):
            found.append((name, version))
    return found


def _files(raw: object) -> list[PackageFile]:
    files = []
    for name, info in sorted(raw.items()) if isinstance(raw, dict) else []:
        if isinstance(info, dict):
            size = info.get("size")
            digest = str(info.get("digest", ""))
            files.append(PackageFile(str(name), digest, size if isinstance(size, int) else None))
    return files


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_package(raw: dict[str, Any]) -> Package:
    signature = raw.get("signature")
    signature = signature if isinstance(signature, dict) else {}
    environment = raw.get("environment")
    environment = environment if isinstance(environment, dict) else {}
    packages = environment.get("packages")
    options = raw.get("flavor_options")
    proba = raw.get("predict_proba")
    return Package(
        raw=raw,
        flavor=_text(raw.get("flavor")),
        format=raw.get("format"),
        signature_kind=_text(signature.get("kind")),
        inputs=_specs(signature.get("inputs")),
        outputs=_specs(signature.get("outputs")),
        python=_text(environment.get("python")),
        packages=sorted((str(k), str(v)) for k, v in packages.items())
        if isinstance(packages, dict)
        else [],
        files=_files(raw.get("files")),
        datasets=_datasets(raw.get("datasets")),
        input_example=_text(raw.get("input_example")),
        predict_proba=proba if isinstance(proba, bool) else None,
        artifact_path=_text(raw.get("artifact_path")),
        flavor_options=options if isinstance(options, dict) else {},
    )


def _read_json(blob_store: BlobStore, digest: str, limit: int) -> object:
    """The blob parsed as JSON; ``None`` when it is missing, too large or not JSON."""
    try:
        raw = read_head(blob_store, digest, limit + 1)
    except (ShipyardError, OSError):
        return None
    if len(raw) > limit:
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def read_package(blob_store: BlobStore, version: ModelVersion) -> Package | None:
    raw = _read_json(blob_store, version.package_digest, MAX_MANIFEST_BYTES)
    return parse_package(raw) if isinstance(raw, dict) else None


@dataclass(frozen=True, slots=True)
class Example:
    """An input example as the page shows it: a table for a data frame, else rows of text."""

    columns: list[str]
    rows: list[list[str]]
    lines: list[str]
    note: str


def _cell(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _line(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= MAX_LINE_CHARS:
        return text
    count = f" ({len(value)} values)" if isinstance(value, list) else ""
    return text[: MAX_LINE_CHARS - 1] + "…" + count


def example_view(data: object) -> Example:
    """``{"type": "dataframe" | "ndarray", "data": [...]}`` as written by
    :mod:`shipyard.models.examples`; anything else is shown as JSON lines."""
    body = data if isinstance(data, dict) else {}
    rows = body.get("data")
    if isinstance(rows, list):
        rows = rows[:MAX_EXAMPLE_ROWS]
        columns = body.get("columns")
        if body.get("type") == "dataframe" and isinstance(columns, list):
            cells = [[_cell(v) for v in row] if isinstance(row, list) else [] for row in rows]
            return Example([str(c) for c in columns], cells, [], f"{len(rows)} rows")
        dtype = body.get("dtype")
        note = f"{len(rows)} rows" + (f" of {dtype}" if isinstance(dtype, str) else "")
        return Example([], [], [_line(row) for row in rows], note)
    if isinstance(data, list):
        return Example([], [], [_line(row) for row in data[:MAX_EXAMPLE_ROWS]], "")
    return Example([], [], [_line(data)], "")


def input_example(
    store: Store, blob_store: BlobStore, version: ModelVersion, package: Package | None
) -> Example | None:
    """The package's input example, cut to a readable size."""
    if package is None or package.input_example is None:
        return None
    digest = next((f.digest for f in package.files if f.name == package.input_example), None)
    if digest is None and version.run_id and package.artifact_path:
        try:
            path = f"{package.artifact_path}/{package.input_example}"
            digest = store.get_artifact(version.run_id, path).digest
        except ShipyardError:
            return None
    if not digest:
        return None
    data = _read_json(blob_store, digest, MAX_EXAMPLE_BYTES)
    return None if data is None else example_view(data)


def model_folders(entries: Iterable[ArtifactEntry]) -> dict[str, str]:
    """Artifact folders of a run that hold a model package (``""`` for the run's root),
    each with its manifest's digest."""
    folders = {}
    for entry in entries:
        if entry.path == MANIFEST_NAME:
            folders[""] = entry.digest
        elif entry.path.endswith("/" + MANIFEST_NAME):
            folders[entry.path[: -len(MANIFEST_NAME) - 1]] = entry.digest
    return dict(sorted(folders.items()))


def versions_for_run(store: Store, run_id: str) -> list[ModelVersion]:
    """Registered versions made from ``run_id``'s packages, newest first.

    The registry is read model by model (up to a bound): the run page asks only
    when the run logged a model, which is rare next to runs that did not.
    """
    found: list[ModelVersion] = []
    token: str | None = None
    scanned = 0
    while scanned < MAX_MODELS_SCANNED:
        page = store.list_registered_models(max_results=PAGE, page_token=token)
        for model in page.items:
            versions = store.list_model_versions(model.name)
            found.extend(v for v in versions if v.run_id == run_id)
        scanned += len(page.items)
        token = page.next_page_token
        if not token:
            break
    return sorted(found, key=lambda v: (-v.created_at, v.name, -v.version))


# -- evaluations --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvaluationGroup:
    """Evaluations on one dataset version: comparable with each other, not across groups."""

    dataset: str | None
    dataset_version: int | None
    metrics: list[str]
    rows: list[Evaluation]
    best: dict[tuple[str, str], bool]  # (evaluation id, metric) -> best of the group

    @property
    def label(self) -> str:
        if self.dataset is None:
            return "Data not versioned"
        return f"{self.dataset} v{self.dataset_version}"


def _best(rows: Sequence[Evaluation], metric: str) -> set[str]:
    values = [
        (row.metrics[metric], row.id)
        for row in rows
        if metric in row.metrics and math.isfinite(row.metrics[metric])
    ]
    if len({value for value, _ in values}) < 2:
        return set()
    target = (min if lower_is_better(metric) else max)(value for value, _ in values)
    return {row_id for value, row_id in values if value == target}


def evaluation_groups(evaluations: Sequence[Evaluation]) -> list[EvaluationGroup]:
    """Evaluations grouped by dataset version (newest group first), best scores marked."""
    grouped: dict[tuple[str | None, int | None], list[Evaluation]] = {}
    for evaluation in evaluations:
        key = (evaluation.dataset, evaluation.dataset_version)
        grouped.setdefault(key, []).append(evaluation)
    groups = []
    for (dataset, dataset_version), rows in grouped.items():
        rows.sort(key=lambda e: (-(e.model_version or 0), -e.created_at))
        metrics = sorted({key for row in rows for key in row.metrics})
        best = {(row_id, m): True for m in metrics for row_id in _best(rows, m)}
        groups.append(EvaluationGroup(dataset, dataset_version, metrics, rows, best))
    return groups
