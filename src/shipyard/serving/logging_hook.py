"""The server's side of prediction logging: open the logger, hand it each answer.

The logger (``shipyard.monitoring.prediction_log.PredictionLogger``) samples,
queues and writes in the background; ``submit`` never blocks or raises, so an
answer never waits on the store.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from shipyard.tracking.client import Client

__all__ = ["PredictionSink", "open_prediction_log"]

log = logging.getLogger("shipyard.serving")


class PredictionSink(Protocol):
    def submit(
        self,
        request_id: str,
        timestamp_ms: int,
        model_version: int | None,
        endpoint: str,
        inputs: Any,
        outputs: np.ndarray[Any, Any],
        latency_ms: float,
        *,
        probabilities: np.ndarray[Any, Any] | None = None,
    ) -> None: ...

    @property
    def dropped(self) -> int: ...

    @property
    def logged(self) -> int: ...

    def close(self, timeout: float = 10.0) -> None: ...


def open_prediction_log(client: Client, model_name: str, sample: float) -> PredictionSink | None:
    """A logger for ``model_name``'s predictions, or None when logging is unavailable."""
    try:
        from shipyard.monitoring.prediction_log import PredictionLogger
    except ImportError as exc:
        log.warning("prediction logging is unavailable (%s): predictions are not logged", exc)
        return None
    sink: PredictionSink = PredictionLogger(client, model_name, sample=sample)
    return sink
