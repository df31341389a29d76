"""Input checks of SqlStore beyond shipyard.validation: ids, batches, page tokens."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from shipyard.entities import ArtifactEntry, Metric, Param, RunStatus, Tag, ViewType
from shipyard.errors import ConflictError, InvalidInputError
from shipyard.store.base import MAX_PAGE_SIZE
from shipyard.store.hashing import validate_digest
from shipyard.validation import (
    INT64_MAX,
    MAX_BATCH_METRICS,
    MAX_BATCH_PARAMS,
    MAX_BATCH_TAGS,
    validate_artifact_path,
    validate_key,
    validate_metric_value,
    validate_param_value,
    validate_step,
    validate_tag_value,
    validate_timestamp,
    validate_utf8,
)

MAX_IDEMPOTENCY_KEY_LENGTH = 128
# PostgreSQL's btree rows hold ~2.7 kB; the artifact path is part of a primary key.
MAX_ARTIFACT_PATH_BYTES = 2048

# A run search token holds the last row's sort values (tag values up to 8,000
# characters each); anything longer is not one of ours.
MAX_PAGE_TOKEN_LENGTH = 1_000_000
_IDEMPOTENCY_RE = re.compile(r"[\x21-\x7e]+")


def check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty string, got {value!r}")
    return validate_utf8(value, what)


def check_view(view: object) -> ViewType:
    try:
        return ViewType(view)  # type: ignore[arg-type]
    except ValueError:
        choices = ", ".join(v.value for v in ViewType)
        raise InvalidInputError(f"view must be one of {choices}, got {view!r}") from None


def check_status(status: object) -> RunStatus:
    try:
        return RunStatus(status)  # type: ignore[arg-type]
    except ValueError:
        choices = ", ".join(s.value for s in RunStatus)
        raise InvalidInputError(f"status must be one of {choices}, got {status!r}") from None


def check_page_size(max_results: object) -> int:
    if isinstance(max_results, bool) or not isinstance(max_results, int):
        raise InvalidInputError(f"max_results must be an integer, got {max_results!r}")
    if not 1 <= max_results <= MAX_PAGE_SIZE:
        raise InvalidInputError(
            f"max_results must be between 1 and {MAX_PAGE_SIZE}, got {max_results}"
        )
    return max_results


def check_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise InvalidInputError(f"tags must be a mapping of keys to values, got {tags!r}")
    if len(tags) > MAX_BATCH_TAGS:
        raise InvalidInputError(f"{len(tags)} tags at once; the limit is {MAX_BATCH_TAGS}")
    return {
        validate_key(key, "tag key"): validate_tag_value(value, key) for key, value in tags.items()
    }


def _sequence(items: object, what: str, limit: int) -> Sequence[Any]:
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise InvalidInputError(f"{what} must be a list, got {type(items).__name__}")
    if len(items) > limit:
        raise InvalidInputError(f"{len(items)} {what} in one batch; the limit is {limit}")
    return items


class MetricColumns(NamedTuple):
    """Validated metric points by column; the lists have one length."""

    keys: list[str]
    values: list[float]
    steps: list[int]
    timestamps: list[int]


def check_metrics(items: object) -> MetricColumns:
    """Validated points of a sequence of :class:`Metric`, as columns."""
    metrics = _sequence(items, "metrics", MAX_BATCH_METRICS)
    if any(type(metric) is not Metric for metric in metrics):
        for metric in metrics:
            if not isinstance(metric, Metric):
                raise InvalidInputError(f"expected a Metric, got {metric!r}")
    return check_metric_columns(
        [m.key for m in metrics],
        [m.value for m in metrics],
        [m.step for m in metrics],
        [m.timestamp for m in metrics],
    )


def check_metric_columns(
    keys: object, values: object, steps: object, timestamps: object
) -> MetricColumns:
    """Validated columns of metric points.

    Batches hold thousands of points, so each column is checked in one pass of
    C-level builtins (``set``, ``map``, ``min``, ``max``); a column that fails
    that pass is checked point by point to name the culprit, or to convert it
    (an int or numpy value to float).
    """
    columns = [
        list(_sequence(column, name, MAX_BATCH_METRICS))
        for column, name in (
            (keys, "metric keys"),
            (values, "metric values"),
            (steps, "metric steps"),
            (timestamps, "metric timestamps"),
        )
    ]
    key_list, value_list, step_list, timestamp_list = columns
    if len({len(column) for column in columns}) > 1:
        raise InvalidInputError(
            "metric keys, values, steps and timestamps must have one length, got "
            + ", ".join(str(len(column)) for column in columns)
        )
    if not key_list:
        return MetricColumns([], [], [], [])
    if set(map(type, key_list)) == {str}:
        for key in set(key_list):
            validate_key(key, "metric key")
    else:
        for key in key_list:
            validate_key(key, "metric key")
    if set(map(type, value_list)) != {float}:
        value_list = [
            value if type(value) is float else validate_metric_value(value, key)
            for key, value in zip(key_list, value_list, strict=True)
        ]
    if not _int_column(step_list, -INT64_MAX):
        step_list = [validate_step(step) for step in step_list]
    if not _int_column(timestamp_list, 0):
        timestamp_list = [validate_timestamp(timestamp) for timestamp in timestamp_list]
    return MetricColumns(key_list, value_list, step_list, timestamp_list)


def _int_column(column: list[Any], low: int) -> bool:
    """Whether every item is an int (not a bool) from ``low`` to INT64_MAX."""
    return set(map(type, column)) == {int} and min(column) >= low and max(column) <= INT64_MAX


def check_params(items: object) -> dict[str, str]:
    """Params by key; one key twice in a batch with different values is a conflict."""
    checked: dict[str, str] = {}
    for param in _sequence(items, "params", MAX_BATCH_PARAMS):
        if not isinstance(param, Param):
            raise InvalidInputError(f"expected a Param, got {param!r}")
        key = validate_key(param.key, "param key")
        value = validate_param_value(param.value, key)
        if key in checked and checked[key] != value:
            raise ConflictError(
                f"param {key!r} is given twice in one batch: {checked[key]!r} and {value!r}"
            )
        checked[key] = value
    return checked


def check_batch_tags(items: object) -> dict[str, str]:
    """Tags by key; a key given twice keeps its last value."""
    checked: dict[str, str] = {}
    for tag in _sequence(items, "tags", MAX_BATCH_TAGS):
        if not isinstance(tag, Tag):
            raise InvalidInputError(f"expected a Tag, got {tag!r}")
        key = validate_key(tag.key, "tag key")
        checked[key] = validate_tag_value(tag.value, key)
    return checked


def check_idempotency_key(key: object) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not _IDEMPOTENCY_RE.fullmatch(key):
        raise InvalidInputError(f"idempotency key must be printable ASCII, got {key!r}")
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidInputError(
            f"idempotency key is {len(key)} characters; the limit is {MAX_IDEMPOTENCY_KEY_LENGTH}"
        )
    return key


def check_artifact_path(path: object) -> str:
    checked = validate_artifact_path(path)
    if len(checked.encode()) > MAX_ARTIFACT_PATH_BYTES:
        raise InvalidInputError(
            f"artifact path is {len(checked.encode())} bytes in UTF-8; "
            f"the limit is {MAX_ARTIFACT_PATH_BYTES}"
        )
    return checked


def check_artifacts(items: object) -> dict[str, ArtifactEntry]:
    """Entries by path; a path given twice keeps its last entry."""
    checked: dict[str, ArtifactEntry] = {}
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise InvalidInputError(f"artifact entries must be a list, got {type(items).__name__}")
    for entry in items:
        if not isinstance(entry, ArtifactEntry):
            raise InvalidInputError(f"expected an ArtifactEntry, got {entry!r}")
        path = check_artifact_path(entry.path)
        validate_digest(entry.digest, f"digest of {path!r}")
        size = entry.size
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= INT64_MAX:
            raise InvalidInputError(
                f"size of {path!r} must be an integer from 0 to {INT64_MAX}, got {size!r}"
            )
        checked[path] = ArtifactEntry(path, size, entry.digest)
    return checked


def encode_token(payload: dict[str, Any]) -> str:
    """An opaque page token: base64url of compact JSON, read by :func:`decode_token_payload`."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token_payload(token: object) -> dict[str, Any]:
    """The JSON object inside a page token; its fields are the caller's to check."""
    if not isinstance(token, str) or len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise InvalidInputError("invalid page token")
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError, RecursionError):
        raise InvalidInputError("invalid page token") from None
    if not isinstance(payload, dict):
        raise InvalidInputError("invalid page token")
    return payload


def decode_token(token: object, field: str) -> str:
    """The string ``field`` of a page token made by :func:`encode_token`."""
    value = decode_token_payload(token).get(field)
    if not isinstance(value, str):
        raise InvalidInputError("invalid page token")
    try:
        return validate_utf8(value, "page token")
    except InvalidInputError:
        raise InvalidInputError("invalid page token") from None
