"""Input checks of the monitoring methods, shared by every store and the server."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from shipyard.errors import InvalidInputError
from shipyard.store.hashing import validate_digest
from shipyard.store.models_base import validate_model_name
from shipyard.validation import INT64_MAX, validate_utf8

__all__ = [
    "MAX_FEEDBACK_ITEMS",
    "MAX_REQUEST_ID_LENGTH",
    "check_bool",
    "check_digest",
    "check_every_seconds",
    "check_feedback_items",
    "check_json_object",
    "check_label",
    "check_model_name",
    "check_model_uri",
    "check_optional_model_name",
    "check_optional_text",
    "check_optional_time",
    "check_request_id",
    "check_request_ids",
    "check_share",
    "check_size",
    "check_state",
    "check_summary",
    "check_time",
    "check_time_range",
    "check_version",
    "check_webhook",
]

MAX_REQUEST_ID_LENGTH = 128
MAX_FEEDBACK_ITEMS = 10_000
MAX_LABEL_BYTES = 64 * 1024
MAX_CONFIG_BYTES = 256 * 1024
MAX_SUMMARY_BYTES = 4 * 1024 * 1024
MAX_URI_LENGTH = 1024
MAX_WEBHOOK_LENGTH = 2048
# A year: a monitor that runs less often than that is a mistake, and the value
# must stay far from overflowing millisecond arithmetic.
MAX_EVERY_SECONDS = 366 * 24 * 3600
_INT32_MAX = 2**31 - 1
_REQUEST_ID_RE = re.compile(r"[\x21-\x7e]+")
_STATE_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def check_model_name(name: object) -> str:
    return validate_model_name(name)


def check_optional_model_name(name: object) -> str | None:
    return None if name is None else validate_model_name(name)


def check_version(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _INT32_MAX:
        raise InvalidInputError(f"model version must be an integer from 1, got {value!r}")
    return value


def check_time(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
        raise InvalidInputError(f"{what} must be milliseconds since the epoch, got {value!r}")
    return value


def check_time_range(low: object, high: object) -> tuple[int, int]:
    """(min_timestamp, max_timestamp), the first not after the second."""
    first, last = check_time(low, "min_timestamp"), check_time(high, "max_timestamp")
    if first > last:
        raise InvalidInputError(f"min_timestamp {first} is after max_timestamp {last}")
    return first, last


def check_optional_time(value: object, what: str) -> int | None:
    return None if value is None else check_time(value, what)


def check_size(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
        raise InvalidInputError(f"{what} must be a non-negative integer, got {value!r}")
    return value


def check_bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{what} must be true or false, got {value!r}")
    return value


def check_digest(value: object, what: str) -> str:
    return validate_digest(value, what)


def check_request_id(value: object) -> str:
    """Request ids travel in headers and URLs: printable ASCII without spaces, bounded."""
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"request id must be a non-empty string, got {value!r}")
    if len(value) > MAX_REQUEST_ID_LENGTH:
        raise InvalidInputError(
            f"request id is {len(value)} characters long; the limit is {MAX_REQUEST_ID_LENGTH}"
        )
    if not _REQUEST_ID_RE.fullmatch(value):
        raise InvalidInputError(f"request id {value!r} may hold only printable ASCII, no spaces")
    return value


def _sequence(items: object, what: str) -> Sequence[Any]:
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Sequence):
        raise InvalidInputError(f"{what} must be a list, got {type(items).__name__}")
    if len(items) > MAX_FEEDBACK_ITEMS:
        raise InvalidInputError(
            f"{len(items)} {what} at once; the limit is {MAX_FEEDBACK_ITEMS}: send them in parts"
        )
    return items


def check_request_ids(ids: object) -> list[str]:
    """Distinct request ids, in the order given."""
    return list(dict.fromkeys(check_request_id(i) for i in _sequence(ids, "request ids")))


def _plain_json(value: object, what: str, limit: int) -> Any:
    """``value`` as it reads back from JSON: no NaN or infinity, bounded size."""
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what} must be plain JSON (no NaN or infinity): {exc}") from None
    except RecursionError:
        raise InvalidInputError(f"{what} is nested too deeply") from None
    if len(text) > limit:
        raise InvalidInputError(f"{what} is {len(text)} bytes as JSON; the limit is {limit}")
    validate_utf8(text, what)
    return json.loads(text)


def check_label(value: object) -> Any:
    if value is None:
        raise InvalidInputError("a feedback label must not be null")
    return _plain_json(value, "feedback label", MAX_LABEL_BYTES)


def check_feedback_items(items: object) -> list[tuple[str, Any]]:
    """(request id, label) pairs; of a request id given twice the last label counts."""
    checked: dict[str, Any] = {}
    for item in _sequence(items, "feedback items"):
        if isinstance(item, str | bytes) or not isinstance(item, Sequence) or len(item) != 2:
            raise InvalidInputError(f"a feedback item must be (request id, label), got {item!r}")
        request_id = check_request_id(item[0])
        checked.pop(request_id, None)
        checked[request_id] = check_label(item[1])
    return list(checked.items())


def check_json_object(value: object, what: str, limit: int = MAX_CONFIG_BYTES) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{what} must be a JSON object, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise InvalidInputError(f"{what} keys must be strings, got {key!r}")
    decoded: dict[str, Any] = _plain_json(dict(value), what, limit)
    return decoded


def check_summary(value: object) -> dict[str, Any]:
    return check_json_object(value, "report summary", MAX_SUMMARY_BYTES)


def check_model_uri(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"model URI must be a non-empty string, got {value!r}")
    if len(value) > MAX_URI_LENGTH or _CONTROL_RE.search(value):
        raise InvalidInputError(f"model URI {value[:80]!r} is too long or holds control characters")
    return validate_utf8(value, "model URI")


def check_optional_text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_URI_LENGTH or _CONTROL_RE.search(value):
        raise InvalidInputError(f"{what} must be a string of at most {MAX_URI_LENGTH} characters")
    return validate_utf8(value, what)


def check_every_seconds(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_EVERY_SECONDS:
        raise InvalidInputError(
            f"every_seconds must be an integer from 1 to {MAX_EVERY_SECONDS}, got {value!r}"
        )
    return value


def check_webhook(value: object) -> str | None:
    """An http(s) URL, or ``None``; the empty string also means none."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"webhook must be a URL string, got {type(value).__name__}")
    if len(value) > MAX_WEBHOOK_LENGTH or _CONTROL_RE.search(value) or " " in value:
        raise InvalidInputError("webhook must be a URL without spaces, at most 2048 characters")
    if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1]) == 0:
        raise InvalidInputError(f"webhook must be an http:// or https:// URL, got {value!r}")
    return validate_utf8(value, "webhook")


def check_state(value: object) -> str:
    if not isinstance(value, str) or not _STATE_RE.fullmatch(value):
        raise InvalidInputError(
            f"monitor state must be a lowercase word (a-z, 0-9, _; at most 32), got {value!r}"
        )
    return value


def check_share(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"drift share must be a number from 0 to 1, got {value!r}")
    share = float(value)
    if math.isnan(share) or not 0.0 <= share <= 1.0:
        raise InvalidInputError(f"drift share must be a number from 0 to 1, got {value!r}")
    return share
