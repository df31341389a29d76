"""The reference a monitoring report compares live predictions with.

**Which dataset version.** ``reference=`` (``--reference datasets:/NAME/N``) wins.
Otherwise the training data recorded for the model's run: the manifest's
``datasets`` (the run's inputs when it logged the model; ``get_run_inputs`` when
the manifest lists none). When the run used several:

1. a dataset an evaluation of this model version scored on, or one whose name
   or tags say test / eval / valid / holdout, is not a training set and drops out;
2. of the rest, one whose name or tags say train / training is chosen;
3. else the first of the rest (inputs are ordered by dataset name, then version);
4. else, when every input dropped out, the first input.

The table is the version's table (:func:`shipyard.data.load_table`: a logged
table, or the version's CSV / Parquet file(s)).

**Which columns.** The target column is left out of the features: ``target=``
when given, else the target of the model version's latest evaluation, else a
reference column named ``target``, ``label``, ``labels``, ``y`` or ``class``.
A model with a column signature logs its inputs under their own names, which
match the reference's columns. A tensor model logs ``input_0 .. input_{k-1}``
(or one list column ``input`` past 1,024 values a row): these are mapped by
position to the reference's feature columns, in table order, target left out;
the counts must agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.errors import InvalidInputError, NotFoundError, ShipyardError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa  # type: ignore[import-untyped]

    from shipyard.entities import DatasetVersion, Evaluation
    from shipyard.models.resolve import ResolvedModel
    from shipyard.tracking.client import Client

__all__ = [
    "Alignment",
    "ReferenceChoice",
    "align_columns",
    "choose_reference",
    "find_target",
    "load_reference",
    "output_columns",
    "reference_predictions",
]

TARGET_NAMES = ("target", "label", "labels", "y", "class")
_TRAIN_RE = re.compile(r"(?:^|[^a-z])(train|training|trainset)(?:[^a-z]|$)")
_HELD_OUT_RE = re.compile(
    r"(?:^|[^a-z])(test|testing|eval|evaluation|valid|validation|val|holdout|dev)(?:[^a-z]|$)"
)
_INPUT_RE = re.compile(r"input_(\d+)")
_OUTPUT_RE = re.compile(r"prediction(?:_(\d+))?")
# Reference predictions are made on at most this many rows (a uniform sample):
# the drift tests sample as many.
MAX_PREDICTED_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class ReferenceChoice:
    version: DatasetVersion
    reason: str

    @property
    def uri(self) -> str:
        return self.version.uri


def _words(dataset: str, version: DatasetVersion | None, tags: dict[str, str]) -> list[str]:
    words = [dataset.lower()]
    if version is not None:
        words += [t.lower() for t in version.tags]
    words += [f"{k}={v}".lower() for k, v in tags.items()]
    return words


def choose_reference(
    client: Client,
    model: ResolvedModel,
    explicit: str | None = None,
    evaluations: Sequence[Evaluation] = (),
) -> ReferenceChoice:
    """The dataset version to compare with (see the module docstring for the rule)."""
    from shipyard.data.api import resolve_in

    store = client.store
    if explicit is not None:
        return ReferenceChoice(resolve_in(store, explicit), "given")
    inputs = [
        (str(d["dataset"]), int(d["version"]))
        for d in model.manifest.get("datasets") or []
        if isinstance(d, dict) and "dataset" in d and "version" in d
    ]
    if not inputs:
        inputs = [(i.dataset, i.version) for i in store.get_run_inputs(model.run_id)]
    if not inputs:
        raise InvalidInputError(
            f"{model.uri}: its run {model.run_id[:8]} recorded no dataset to compare with; "
            "pass a reference (--reference datasets:/NAME/VERSION)"
        )
    evaluated = {e.dataset for e in evaluations if e.dataset is not None}
    kept: list[tuple[str, int]] = []
    train: list[tuple[str, int]] = []
    for name, number in inputs:
        try:
            version = store.get_dataset_version(name, number)
            tags = store.get_dataset(name).tags
        except NotFoundError:
            continue
        words = _words(name, version, tags)
        if name in evaluated or any(_HELD_OUT_RE.search(w) for w in words):
            continue
        kept.append((name, number))
        if any(_TRAIN_RE.search(w) for w in words):
            train.append((name, number))
    if train:
        picked, reason = train[0], "the model's training dataset, named or tagged train"
    elif kept:
        picked, reason = kept[0], "the first dataset of the model's run not used for evaluation"
    else:
        picked, reason = inputs[0], "the first dataset of the model's run"
    return ReferenceChoice(store.get_dataset_version(*picked), reason)


def load_reference(client: Client, version: DatasetVersion) -> pd.DataFrame:
    from shipyard.data.tables import load_table

    return load_table(version, client=client)


def find_target(
    columns: Sequence[str], explicit: str | None, evaluations: Sequence[Evaluation] = ()
) -> str | None:
    """The reference's target column, or None when it holds none (see the module docstring)."""
    if explicit is not None:
        if explicit not in columns:
            raise InvalidInputError(f"the reference has no target column {explicit!r}")
        return explicit
    for evaluation in evaluations:
        if evaluation.target in columns:
            return evaluation.target
    for name in TARGET_NAMES:
        if name in columns:
            return name
    return None


@dataclass(frozen=True)
class Alignment:
    """Features of both sides under the reference's names.

    ``mapping`` maps each logged column to the reference column it was compared
    with; ``unlogged`` lists reference features the logs do not hold.
    """

    reference: pd.DataFrame
    current: pa.Table
    mapping: dict[str, str]
    by_position: bool
    unlogged: list[str] = field(default_factory=list)


def _expand_list_column(table: pa.Table, name: str) -> tuple[list[str], pa.Table]:
    """A fixed-size list column ``input`` (wide tensors) as ``input_0 ..`` columns."""
    import pyarrow as pa

    column = table.column(name).combine_chunks()
    width = column.type.list_size
    flat = np.asarray(column.flatten().to_numpy(zero_copy_only=False)).reshape(-1, width)
    names = [f"{name}_{j}" for j in range(width)]
    return names, pa.table({n: flat[:, j] for j, n in enumerate(names)})


def align_columns(
    reference: pd.DataFrame, logs: pa.Table, target: str | None, features: Sequence[str]
) -> Alignment:
    """Map the logged input columns ``features`` onto the reference's feature columns."""
    import pyarrow as pa

    ref_features = [str(c) for c in reference.columns if c != target]
    logged = list(features)
    if not logged:
        raise InvalidInputError("the prediction logs hold no input columns to compare")
    table = logs.select(logged)
    if len(logged) == 1 and pa.types.is_fixed_size_list(table.schema.field(logged[0]).type):
        logged, table = _expand_list_column(table, logged[0])
    plain = {n: n[len("input.") :] if n.startswith("input.") else n for n in logged}
    named = [n for n in logged if plain[n] in ref_features]
    if named and len(named) == len(logged):
        mapping = {n: plain[n] for n in logged}
        unlogged = [c for c in ref_features if c not in set(mapping.values())]
        return Alignment(
            reference=reference[list(mapping.values())],
            current=table.rename_columns([mapping[n] for n in logged]),
            mapping=mapping,
            by_position=False,
            unlogged=unlogged,
        )
    positions = [_INPUT_RE.fullmatch(n) for n in logged]
    if all(positions) and sorted(int(m.group(1)) for m in positions if m) == list(
        range(len(logged))
    ):
        ordered = sorted(logged, key=lambda n: int(n.rsplit("_", 1)[1]))
    elif logged == ["input"]:
        ordered = logged
    else:
        missing = [plain[n] for n in logged if plain[n] not in ref_features][:5]
        raise InvalidInputError(
            f"the logged inputs {', '.join(missing)} are not columns of the reference; "
            "pass the training table as --reference"
        )
    if len(ordered) != len(ref_features):
        left_out = f" (target {target!r} left out)" if target is not None else ""
        raise InvalidInputError(
            f"the model logs {len(ordered)} input values a row but the reference has "
            f"{len(ref_features)} feature columns{left_out}; name the target "
            "(--target) or pass the matching reference (--reference)"
        )
    mapping = dict(zip(ordered, ref_features, strict=True))
    current = table.select(ordered).rename_columns(ref_features)
    return Alignment(reference[ref_features], current, mapping, by_position=True)


def output_columns(logs: pa.Table) -> list[str]:
    """The logged prediction columns in order: ``prediction`` or ``prediction_0 ..``."""
    found = [(n, _OUTPUT_RE.fullmatch(n)) for n in logs.column_names]
    outputs = [(n, m) for n, m in found if m is not None]
    return [n for n, m in sorted(outputs, key=lambda p: int(p[1].group(1) or -1))]


def _sample(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= MAX_PREDICTED_ROWS:
        return frame
    return frame.sample(MAX_PREDICTED_ROWS, random_state=0)


def reference_predictions(
    client: Client,
    model: ResolvedModel,
    features: pd.DataFrame,
    *,
    trust: bool = False,
) -> tuple[np.ndarray[Any, Any] | None, str | None]:
    """The model's predictions on the reference features, or (None, why not).

    A model that cannot load here (a pickle without ``trust``, a missing flavor
    library) or that rejects the reference table is reported, not fatal.
    """
    from shipyard.models import load

    try:
        loaded = load(model.canonical_uri, trust=trust, client=client)
        if loaded.signature.kind == "columns":
            names = [n for n in loaded.signature.input_names if n in features.columns]
            if len(names) == len(loaded.signature.input_names):
                features = features[names]
        prepared = loaded.prepare(_sample(features))
        return np.asarray(loaded.predict_prepared(prepared)), None
    except (ShipyardError, ImportError, ValueError, TypeError) as exc:
        message = exc.message if isinstance(exc, ShipyardError) else str(exc)
        return None, f"the model's predictions on the reference could not be made: {message}"
