"""Input checks of the model registry methods beyond :mod:`shipyard.validation`.

Scores are plain floats. An evaluation's metrics may be NaN or infinite (a
score undefined on the data is still a result); JSON has no such numbers, so
they are stored as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
A promotion decision's scores and thresholds must be finite: a gate compares
them.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

from shipyard.entities import ModelVersionStatus
from shipyard.errors import InvalidInputError
from shipyard.store import dataset_checks as dc
from shipyard.store.hashing import validate_digest
from shipyard.validation import (
    MAX_ARTIFACT_PATH_LENGTH,
    MAX_BATCH_METRICS,
    validate_key,
    validate_metric_value,
    validate_name,
    validate_utf8,
)

__all__ = [
    "MAX_DETAILS_BYTES",
    "MAX_FLAVOR_LENGTH",
    "MAX_URI_LENGTH",
    "check_details",
    "check_flavor",
    "check_metrics",
    "check_optional_name",
    "check_plots",
    "check_score",
    "check_status",
    "check_text",
    "check_thresholds",
    "check_uri",
    "decode_metrics",
    "encode_metrics",
]

MAX_FLAVOR_LENGTH = 64
# A run id, a colon and slashes, and an artifact path.
MAX_URI_LENGTH = MAX_ARTIFACT_PATH_LENGTH + 64
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
MAX_DETAILS_BYTES = dc.MAX_PROFILE_BYTES
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def check_uri(value: object, what: str) -> str:
    """A model URI (``runs:/<run-id>/model``, ``models:/name/3``): one non-empty line."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(
            f"{what} must be a non-empty URI such as runs:/<run-id>/model, got {value!r}"
        )
    if len(value) > MAX_URI_LENGTH:
        raise InvalidInputError(
            f"{what} is {len(value)} characters long; the limit is {MAX_URI_LENGTH}"
        )
    if _CONTROL_RE.search(value):
        raise InvalidInputError(f"{what} {value!r} contains control characters")
    return validate_utf8(value, what)


def check_text(value: object, what: str, limit: int) -> str | None:
    """Optional free text (a description, a reason): bounded, no NUL, valid Unicode."""
    text = dc.check_text(value, what, limit)
    return None if text is None else validate_utf8(text, what)


def check_flavor(value: object) -> str | None:
    if value is None:
        return None
    flavor = validate_key(value, "flavor")
    if len(flavor) > MAX_FLAVOR_LENGTH:
        raise InvalidInputError(
            f"flavor is {len(flavor)} characters long; the limit is {MAX_FLAVOR_LENGTH}"
        )
    return flavor


def check_optional_name(value: object, what: str) -> str | None:
    return None if value is None else validate_name(value, what)


def check_status(value: object) -> ModelVersionStatus:
    try:
        return ModelVersionStatus(value)  # type: ignore[arg-type]
    except ValueError:
        choices = ", ".join(s.value for s in ModelVersionStatus)
        raise InvalidInputError(f"status must be one of {choices}, got {value!r}") from None


def _mapping(value: object, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{what} must be a mapping, got {type(value).__name__}")
    if len(value) > MAX_BATCH_METRICS:
        raise InvalidInputError(f"{len(value)} {what} at once; the limit is {MAX_BATCH_METRICS}")
    return value


def check_metrics(value: object) -> dict[str, float]:
    """Metric name to score; NaN and infinities are kept."""
    return {
        validate_key(key, "metric name"): validate_metric_value(score, key)
        for key, score in _mapping(value, "metrics").items()
    }


def check_score(value: object, what: str) -> float:
    """A finite real number (numpy's too); booleans are refused."""
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not real or type(value).__name__ == "bool_":
        raise InvalidInputError(f"{what} must be a finite number, got {value!r}")
    try:
        score = float(value)  # type: ignore[arg-type]
    except OverflowError:
        score = math.inf
    if not math.isfinite(score):
        raise InvalidInputError(f"{what} must be a finite number, got {value!r}")
    return score


def check_thresholds(value: object) -> dict[str, float]:
    return {
        validate_key(key, "threshold metric"): check_score(limit, f"threshold of {key!r}")
        for key, limit in _mapping(value, "thresholds").items()
    }


def check_plots(value: object) -> dict[str, str]:
    """Plot file name (``confusion_matrix.png``) to the digest of its stored blob."""
    plots: dict[str, str] = {}
    for key, digest in _mapping(value, "plots").items():
        name = validate_key(key, "plot name")
        plots[name] = validate_digest(digest, f"digest of plot {name!r}")
    return plots


def check_details(value: object) -> dict[str, Any]:
    """Structured results as plain JSON (no NaN or infinity: use null), bounded in size.

    What comes back is what every store returns for it, so details read back
    equal whether they travelled through SQLite, PostgreSQL or the server.
    """
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"details must be a JSON object, got {type(value).__name__}")
    try:
        text = json.dumps(dict(value), allow_nan=False, ensure_ascii=False, separators=(",", ":"))
        size = len(text.encode("utf-8"))  # a lone surrogate fits in a str but in no database
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"evaluation details must be plain JSON (no NaN or infinity: use null): {exc}"
        ) from None
    except RecursionError:
        raise InvalidInputError("evaluation details are nested too deeply") from None
    if size > MAX_DETAILS_BYTES:
        raise InvalidInputError(
            f"evaluation details are {size} bytes as JSON; the limit is {MAX_DETAILS_BYTES}"
        )
    decoded: dict[str, Any] = json.loads(text)
    return decoded


def encode_metrics(metrics: Mapping[str, float]) -> dict[str, float | str]:
    encoded: dict[str, float | str] = {}
    for key, score in metrics.items():
        if math.isfinite(score):
            encoded[key] = score
        elif math.isnan(score):
            encoded[key] = "NaN"
        else:
            encoded[key] = "Infinity" if score > 0 else "-Infinity"
    return encoded


def decode_metrics(stored: Mapping[str, float | str]) -> dict[str, float]:
    return {
        key: _NON_FINITE[score] if isinstance(score, str) else float(score)
        for key, score in stored.items()
    }
