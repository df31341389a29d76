"""The settings of one model server, as ``shipyard serve`` takes them.

They travel to uvicorn's worker processes as JSON in one environment variable,
so each worker builds the same app (``app_from_env``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass

from shipyard.errors import InvalidInputError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_MAX_BATCH_SIZE",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_LATENCY_MS",
    "DEFAULT_POLL_INTERVAL_S",
    "ServeConfig",
]

CONFIG_ENV = "SHIPYARD_SERVE_CONFIG"
DEFAULT_MAX_BATCH_SIZE = 64
DEFAULT_MAX_LATENCY_MS = 2.0
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
DEFAULT_POLL_INTERVAL_S = 2.0


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """``model_uri`` is served under ``name`` (default: the registered model's name, or
    ``model``); ``canary_uri`` takes ``canary_percent`` of the traffic. Followed URIs
    (aliases, the newest version) are resolved again every ``poll_interval`` seconds
    (0 turns following off)."""

    model_uri: str
    name: str | None = None
    canary_uri: str | None = None
    canary_percent: float = 0.0
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_latency_ms: float = DEFAULT_MAX_LATENCY_MS
    poll_interval: float = DEFAULT_POLL_INTERVAL_S
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    log_predictions: bool = True
    log_sample: float = 1.0
    strict_env: bool = False
    trust: bool = False
    store_uri: str | None = None

    def __post_init__(self) -> None:
        if self.max_batch_size < 1:
            raise InvalidInputError("max batch size must be at least 1")
        if self.max_latency_ms < 0:
            raise InvalidInputError("max latency must be >= 0 ms")
        if not 0.0 <= self.canary_percent <= 100.0:
            raise InvalidInputError(f"canary percent must be in 0..100, got {self.canary_percent}")
        if self.canary_percent and not self.canary_uri:
            raise InvalidInputError("a canary percent needs a canary model URI (--canary)")
        if not 0.0 <= self.log_sample <= 1.0:
            raise InvalidInputError(f"log sample must be in 0..1, got {self.log_sample}")
        if self.max_body_bytes < 1:
            raise InvalidInputError("max body bytes must be at least 1")
        if self.poll_interval < 0:
            raise InvalidInputError("poll interval must be >= 0 seconds")

    def to_env(self) -> dict[str, str]:
        return {CONFIG_ENV: json.dumps(dataclasses.asdict(self))}

    @classmethod
    def from_env(cls) -> ServeConfig:
        raw = os.environ.get(CONFIG_ENV)
        if not raw:
            raise InvalidInputError(
                f"{CONFIG_ENV} is not set: start the server with `shipyard serve`"
            )
        return cls(**json.loads(raw))
