"""Answers to create requests remembered by ``Idempotency-Key``.

``log_batch`` keys are kept by the Store itself (in the database, so every
worker sees them). Creates have no such column, so the server remembers their
answers here, in memory and bounded: a client that retries a create whose
answer was lost gets the first answer back instead of a second record. A
retry that reaches another worker process is not covered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shipyard.errors import ConflictError

__all__ = ["IdempotencyCache"]


@dataclass
class _Entry:
    fingerprint: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: bool = False
    value: Any = None


class IdempotencyCache:
    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def run(self, key: str | None, scope: str, fingerprint: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per (scope, key); a concurrent duplicate waits for the first.

        A failed ``compute`` is not remembered, so a retry tries again.
        """
        if key is None:
            return compute()
        full_key = f"{scope}\x00{key}"
        with self._lock:
            entry = self._entries.get(full_key)
            if entry is None:
                entry = _Entry(fingerprint)
                self._entries[full_key] = entry
                while len(self._entries) > self.capacity:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(full_key)
        if entry.fingerprint != fingerprint:
            raise ConflictError(f"Idempotency-Key {key!r} was already used for a different request")
        with entry.lock:
            if not entry.done:
                entry.value = compute()
                entry.done = True
            return entry.value
