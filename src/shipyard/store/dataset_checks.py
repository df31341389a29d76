"""Input checks of the dataset methods beyond shipyard.validation, shared by every store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shipyard.errors import InvalidInputError
from shipyard.store.datasets_base import validate_dataset_name, validate_version_tag
from shipyard.store.hashing import validate_digest
from shipyard.validation import INT64_MAX, MAX_TAG_VALUE_LENGTH

MAX_MESSAGE_LENGTH = MAX_TAG_VALUE_LENGTH
MAX_DESCRIPTION_LENGTH = MAX_TAG_VALUE_LENGTH
MAX_PROFILE_BYTES = 4 * 1024 * 1024
MAX_RUN_INPUTS = 1_000
_INT32_MAX = 2**31 - 1


def check_count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
        raise InvalidInputError(f"{what} must be a non-negative integer, got {value!r}")
    return value


def check_version(value: object) -> int:
    """A version number as a caller gives it (1, 2, ...)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"version must be an integer, got {value!r}")
    if not 1 <= value <= _INT32_MAX:
        raise InvalidInputError(f"version must be between 1 and {_INT32_MAX}, got {value}")
    return value


def check_text(value: object, what: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidInputError(f"{what} is {len(value)} characters long; the limit is {limit}")
    if "\x00" in value:
        raise InvalidInputError(f"{what} contains a NUL character")
    return value


def check_manifest_digest(value: object) -> str:
    return validate_digest(value, "manifest digest")


def check_version_tags(tags: object) -> list[str]:
    if isinstance(tags, str | bytes) or not isinstance(tags, Sequence):
        raise InvalidInputError(f"version tags must be a list of strings, got {tags!r}")
    return sorted({validate_version_tag(tag) for tag in tags})


def check_profile(profile: object) -> dict[str, Any]:
    """A profile as plain JSON: string keys, no NaN or infinity (use null), bounded size.

    What comes back is what every store will return for it, so a profile reads
    back equal whether it travelled through SQLite, PostgreSQL or the server.
    """
    if not isinstance(profile, dict):
        raise InvalidInputError(f"profile must be a JSON object, got {type(profile).__name__}")
    try:
        text = json.dumps(profile, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"profile must be plain JSON (no NaN or infinity: use null): {exc}"
        ) from None
    except RecursionError:
        raise InvalidInputError("profile is nested too deeply") from None
    if len(text) > MAX_PROFILE_BYTES:
        raise InvalidInputError(
            f"profile is {len(text)} bytes as JSON; the limit is {MAX_PROFILE_BYTES}"
        )
    decoded: dict[str, Any] = json.loads(text)
    return decoded


def check_run_inputs(inputs: object) -> list[tuple[str, int]]:
    """(dataset name, version) pairs without repeats, in the order given."""
    if isinstance(inputs, str | bytes) or not isinstance(inputs, Sequence):
        raise InvalidInputError(f"run inputs must be a list of (dataset, version), got {inputs!r}")
    if len(inputs) > MAX_RUN_INPUTS:
        raise InvalidInputError(f"{len(inputs)} run inputs at once; the limit is {MAX_RUN_INPUTS}")
    seen: dict[tuple[str, int], None] = {}
    for item in inputs:
        if isinstance(item, str | bytes) or not isinstance(item, Sequence) or len(item) != 2:
            raise InvalidInputError(f"a run input must be (dataset name, version), got {item!r}")
        seen[(validate_dataset_name(item[0]), check_version(item[1]))] = None
    return list(seen)


__all__ = [
    "MAX_DESCRIPTION_LENGTH",
    "MAX_MESSAGE_LENGTH",
    "MAX_PROFILE_BYTES",
    "MAX_RUN_INPUTS",
    "check_count",
    "check_manifest_digest",
    "check_profile",
    "check_run_inputs",
    "check_text",
    "check_version",
    "check_version_tags",
]
