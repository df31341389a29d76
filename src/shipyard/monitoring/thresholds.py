"""The limits a report judges by, as typed on the command line and stored on a monitor.

- ``drift_share``: the share of drifted feature columns at which the dataset
  drifts (default 0.5);
- ``prediction_drift``: ``true`` to count drift of the predictions alone as
  drift (by default it is reported but raises no alert);
- ``<metric>_drop``: how much worse than the baseline a metric may get
  (``accuracy_drop=0.05``; see :mod:`shipyard.monitoring.quality`);
- ``min_labels``: labelled rows needed before a quality drop counts (default 30).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from shipyard.errors import InvalidInputError

__all__ = ["DEFAULT_DRIFT_SHARE", "check_thresholds", "parse_thresholds"]

DEFAULT_DRIFT_SHARE = 0.5
_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


def _known_metrics() -> tuple[str, ...]:
    from shipyard.evaluation.metrics import known_metrics

    return known_metrics()


def _number(key: str, value: Any) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InvalidInputError(f"threshold {key} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"threshold {key} must be a finite number, got {value!r}")
    return float(value)


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (*_TRUE, *_FALSE):
        return value.lower() in _TRUE
    raise InvalidInputError(f"threshold {key} must be true or false, got {value!r}")


def check_thresholds(thresholds: Mapping[str, Any] | None) -> dict[str, Any]:
    """Checked, typed thresholds; an unknown name is an error that lists the known ones."""
    checked: dict[str, Any] = {}
    for key, value in (thresholds or {}).items():
        if key == "drift_share":
            share = _number(key, value)
            if not 0 < share <= 1:
                raise InvalidInputError(f"drift_share must be in (0, 1], got {value!r}")
            checked[key] = share
        elif key == "prediction_drift":
            checked[key] = _flag(key, value)
        elif key == "min_labels":
            count = _number(key, value)
            if count < 1 or count != int(count):
                raise InvalidInputError(f"min_labels must be a positive integer, got {value!r}")
            checked[key] = int(count)
        elif key.endswith("_drop") and key[: -len("_drop")] in _known_metrics():
            drop = _number(key, value)
            if drop < 0:
                raise InvalidInputError(f"{key} must not be negative, got {value!r}")
            checked[key] = drop
        else:
            metrics = ", ".join(f"{m}_drop" for m in _known_metrics())
            raise InvalidInputError(
                f"unknown threshold {key!r}: use drift_share, prediction_drift, min_labels "
                f"or one of {metrics}"
            )
    return checked


def parse_thresholds(items: str | list[str] | tuple[str, ...] | None) -> dict[str, Any]:
    """``drift_share=0.3,accuracy_drop=0.05`` (or several such strings) as checked thresholds."""
    if items is None:
        return {}
    texts = [items] if isinstance(items, str) else list(items)
    found: dict[str, str] = {}
    for text in texts:
        for part in text.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise InvalidInputError(f"a threshold is NAME=VALUE, got {part.strip()!r}")
            found[key.strip()] = value.strip()
    return check_thresholds(found)
