"""Checks on everything a user names or sends, shared by every entry point.

Limits (documented in the README):

- experiment, run and dataset names: 1-256 characters, no control characters;
- param, metric and tag keys: 1-250 characters of letters, digits and ``_ - . / space :``;
- param values: up to 6,000 characters; tag values: up to 8,000 characters;
- artifact paths: relative, ``/``-separated, up to 1,024 characters, no ``..``, no
  backslashes, drive letters or NUL bytes, nor URL-encoded escapes of these.
"""

from __future__ import annotations

import numbers
import re
import urllib.parse

from shipyard.errors import InvalidInputError

MAX_NAME_LENGTH = 256
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_ARTIFACT_PATH_LENGTH = 1024
MAX_BATCH_METRICS = 10_000
MAX_BATCH_PARAMS = 1_000
MAX_BATCH_TAGS = 1_000

_KEY_RE = re.compile(r"[A-Za-z0-9_\-./: ]+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
INT64_MAX = 2**63 - 1


def validate_utf8(text: str, what: str) -> str:
    """``text`` if it encodes as UTF-8; a lone surrogate (from JSON ``"\\ud800"``) does not."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(f"{what} is not valid Unicode: it holds a lone surrogate") from None
    return text


def validate_name(name: object, what: str = "name") -> str:
    if not isinstance(name, str):
        raise InvalidInputError(f"{what} must be a string, got {type(name).__name__}")
    if not name.strip():
        raise InvalidInputError(f"{what} must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"{what} is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}"
        )
    if _CONTROL_RE.search(name):
        raise InvalidInputError(f"{what} {name!r} contains control characters")
    return validate_utf8(name, what)


def validate_key(key: object, what: str = "key") -> str:
    if not isinstance(key, str):
        raise InvalidInputError(f"{what} must be a string, got {type(key).__name__}")
    if not key:
        raise InvalidInputError(f"{what} must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            f"{what} is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}"
        )
    if not _KEY_RE.fullmatch(key):
        raise InvalidInputError(
            f"{what} {key!r} may contain only letters, digits, spaces and _ - . / :"
        )
    if key.startswith("/") or ".." in key.split("/"):
        raise InvalidInputError(f"{what} {key!r} must not start with '/' or contain '..'")
    return key


def _validate_text_value(value: object, limit: int, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidInputError(f"{what} is {len(value)} characters long; the limit is {limit}")
    if "\x00" in value:
        raise InvalidInputError(f"{what} contains a NUL character")
    return validate_utf8(value, what)


def validate_param_value(value: object, key: str = "param") -> str:
    return _validate_text_value(value, MAX_PARAM_VALUE_LENGTH, f"value of param {key!r}")


def validate_tag_value(value: object, key: str = "tag") -> str:
    return _validate_text_value(value, MAX_TAG_VALUE_LENGTH, f"value of tag {key!r}")


def validate_metric_value(value: object, key: str = "metric") -> float:
    """Any real number, NaN and +-inf included; booleans and strings are refused."""
    # numbers.Real admits numpy scalars too; bool is an int but never a metric.
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or type(value).__name__ == "bool_"
    ):
        raise InvalidInputError(f"value of metric {key!r} must be a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise InvalidInputError(f"value of metric {key!r} is too large for a float") from None


def validate_step(step: object) -> int:
    if isinstance(step, bool) or not isinstance(step, int):
        raise InvalidInputError(f"step must be an integer, got {step!r}")
    if not -INT64_MAX <= step <= INT64_MAX:
        raise InvalidInputError(f"step {step} is out of the 64-bit range")
    return step


def validate_timestamp(timestamp: object) -> int:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise InvalidInputError(f"timestamp must be integer milliseconds, got {timestamp!r}")
    if not 0 <= timestamp <= INT64_MAX:
        raise InvalidInputError(f"timestamp {timestamp} is out of range")
    return timestamp


def validate_artifact_path(path: object, what: str = "artifact path") -> str:
    """Refuse anything that could leave the store once joined to a folder or a URL.

    URL-encoded forms are decoded repeatedly before the checks, so ``%2e%2e%2f``
    and ``%252e`` fail like ``../``.
    """
    if not isinstance(path, str):
        raise InvalidInputError(f"{what} must be a string, got {type(path).__name__}")
    if not path:
        raise InvalidInputError(f"{what} must not be empty")
    if len(path) > MAX_ARTIFACT_PATH_LENGTH:
        raise InvalidInputError(
            f"{what} is {len(path)} characters long; the limit is {MAX_ARTIFACT_PATH_LENGTH}"
        )
    decoded = path
    for _ in range(4):
        unquoted = urllib.parse.unquote(decoded)
        if unquoted == decoded:
            break
        decoded = unquoted
    if decoded != path and decoded != urllib.parse.unquote(path):
        raise InvalidInputError(f"{what} {path!r} is URL-encoded more than once")
    for candidate in {path, decoded}:
        if "\x00" in candidate:
            raise InvalidInputError(f"{what} {path!r} contains a NUL byte")
        if "\\" in candidate:
            raise InvalidInputError(f"{what} {path!r} contains a backslash; use '/'")
        if candidate.startswith("/"):
            raise InvalidInputError(f"{what} {path!r} must be relative")
        if _DRIVE_RE.match(candidate):
            raise InvalidInputError(f"{what} {path!r} must not name a drive")
        if _CONTROL_RE.search(candidate):
            raise InvalidInputError(f"{what} {path!r} contains control characters")
        parts = candidate.split("/")
        if any(part in ("..", ".") for part in parts):
            raise InvalidInputError(f"{what} {path!r} must not contain '..' or '.' segments")
        if any(part == "" for part in parts):
            raise InvalidInputError(f"{what} {path!r} contains an empty segment")
    if "%" in path:
        raise InvalidInputError(f"{what} {path!r} must not contain '%' escapes")
    return validate_utf8(path, what)
