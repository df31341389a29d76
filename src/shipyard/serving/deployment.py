"""Loaded versions, the slots that hold them, traffic splitting and hot swaps.

A :class:`ModelSlot` holds the version serving one URI now (the primary, or the
canary). Swapping is one assignment on the event loop thread: a request picks
a deployment and announces itself to that deployment's batcher in the same
step, so it is answered by the version it picked, and the old version's
batcher is closed only once everything it took is answered.

The :class:`Follower` thread resolves each followed URI every ``interval``
seconds; when it names another version, that version loads in the thread, is
checked by predicting on its input example, and only then replaces the old one.
A version that fails is not tried again until the alias moves on.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shipyard.errors import InvalidInputError, ShipyardError
from shipyard.models.predictor import Predictor
from shipyard.serving.batcher import Batcher
from shipyard.serving.source import ModelSource, Resolved, check_environment, follows

__all__ = [
    "Deployment",
    "Follower",
    "LoadedVersion",
    "ModelSlot",
    "Router",
    "load_version",
    "swap_on_loop",
    "version_label",
]

log = logging.getLogger("shipyard.serving")


def version_label(resolved: Resolved) -> str:
    """How responses and metrics name a version: its number, else ``run-<run id>``."""
    if resolved.version is not None:
        return str(resolved.version)
    if resolved.run_id:
        return f"run-{resolved.run_id}"
    return "0"


@dataclass(frozen=True, slots=True)
class LoadedVersion:
    """A model loaded and checked, not yet serving."""

    resolved: Resolved
    model: Predictor
    label: str
    load_seconds: float


@dataclass(frozen=True, slots=True)
class Deployment:
    """A version serving now, with the batcher that runs it."""

    loaded: LoadedVersion
    role: str
    batcher: Batcher

    @property
    def model(self) -> Predictor:
        return self.loaded.model

    @property
    def label(self) -> str:
        return self.loaded.label

    @property
    def version(self) -> int | None:
        return self.loaded.resolved.version


def _check_example(model: Predictor, uri: str) -> None:
    example = model.input_example
    if example is None:
        log.warning("%s has no input example: it is served unchecked", uri)
        return
    try:
        model.predict(example)
    except Exception as exc:
        raise InvalidInputError(f"{uri} fails to predict on its own input example: {exc}") from exc


def load_version(
    source: ModelSource, resolved: Resolved, *, strict_env: bool = False
) -> LoadedVersion:
    """Check the environment, load, and predict on the input example (blocking)."""
    started = time.perf_counter()
    check_environment(resolved, strict=strict_env)
    model = source.load(resolved)
    _check_example(model, resolved.pinned_uri)
    return LoadedVersion(resolved, model, version_label(resolved), time.perf_counter() - started)


class ModelSlot:
    """The deployment answering for ``uri`` (as the user gave it) now."""

    def __init__(self, uri: str, role: str, current: Deployment) -> None:
        self.uri = uri
        self.role = role
        self.current = current
        self.follows = follows(uri)
        self.failed_key: str | None = None


class Router:
    """Picks the deployment for each request: ``canary_percent`` of them go to the
    canary, spread evenly (a running count, so any 100 consecutive requests hold
    the canary's share, to the nearest request)."""

    def __init__(
        self, primary: ModelSlot, canary: ModelSlot | None = None, canary_percent: float = 0.0
    ) -> None:
        if not 0.0 <= canary_percent <= 100.0:
            raise InvalidInputError(f"canary percent must be in 0..100, got {canary_percent}")
        self.primary = primary
        self.canary = canary
        self._share = round(canary_percent * 100) if canary is not None else 0
        self._count = 0

    @property
    def slots(self) -> list[ModelSlot]:
        return [self.primary] if self.canary is None else [self.primary, self.canary]

    def pick(self) -> Deployment:
        if self.canary is None or self._share == 0:
            return self.primary.current
        before = self._count * self._share // 10_000
        self._count += 1
        if self._count * self._share // 10_000 > before:
            return self.canary.current
        return self.primary.current

    def by_version(self, label: str) -> Deployment | None:
        """The deployment of version ``label`` (primary first), when one is loaded."""
        for slot in self.slots:
            if slot.current.label == label:
                return slot.current
        return None

    def deployments(self) -> list[Deployment]:
        return [slot.current for slot in self.slots]


# How long the follower waits for the old version to answer what it took.
_SWAP_TIMEOUT_S = 60.0

SwapHandler = Callable[[ModelSlot, LoadedVersion], None]


class Follower:
    """A daemon thread that follows the slots' aliases and hands new versions over."""

    def __init__(
        self,
        source: ModelSource,
        slots: list[ModelSlot],
        *,
        interval: float,
        strict_env: bool,
        on_loaded: SwapHandler,
        on_failed: Callable[[ModelSlot, Resolved, BaseException], None],
    ) -> None:
        self.source = source
        self.slots = [slot for slot in slots if slot.follows]
        self.interval = interval
        self.strict_env = strict_env
        self._on_loaded = on_loaded
        self._on_failed = on_failed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.loading = threading.Event()  # set while a new version loads

    def start(self) -> None:
        if not self.slots or self.interval <= 0:
            return
        self._thread = threading.Thread(target=self._run, name="shipyard-follower", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for slot in self.slots:
                if self._stop.is_set():
                    return
                try:
                    self.check(slot)
                except Exception:
                    # A failed hand-over (a swap that timed out, say) must not end following:
                    # the current version keeps serving and the next poll tries again.
                    log.exception("%s: following the alias failed", slot.uri)

    def check(self, slot: ModelSlot) -> None:
        """Resolve ``slot``'s URI once; load and hand over a new version if it moved."""
        try:
            resolved = self.source.resolve(slot.uri)
        except Exception as exc:  # the registry is unreachable: keep serving what is loaded
            log.warning(
                "cannot resolve %s (keeping version %s): %s", slot.uri, slot.current.label, exc
            )
            return
        if resolved.key in (slot.current.loaded.resolved.key, slot.failed_key):
            return
        log.info("%s now names %s: loading it", slot.uri, resolved.pinned_uri)
        self.loading.set()
        try:
            loaded = load_version(self.source, resolved, strict_env=self.strict_env)
        except Exception as exc:
            slot.failed_key = resolved.key
            message = exc.message if isinstance(exc, ShipyardError) else repr(exc)
            log.error("not swapping in %s: %s", resolved.pinned_uri, message)
            self._on_failed(slot, resolved, exc)
            return
        finally:
            self.loading.clear()
        slot.failed_key = None
        self._on_loaded(slot, loaded)


def swap_on_loop(
    loop: asyncio.AbstractEventLoop,
    make_deployment: Callable[[LoadedVersion, str], Deployment],
    on_swapped: Callable[[ModelSlot, Deployment, Deployment], Any],
) -> SwapHandler:
    """A swap handler for the follower thread that swaps on ``loop`` and waits for it."""

    def handle(slot: ModelSlot, loaded: LoadedVersion) -> None:
        async def swap() -> None:
            new = make_deployment(loaded, slot.role)
            old, slot.current = slot.current, new
            log.info("%s: version %s replaced version %s", slot.uri, new.label, old.label)
            on_swapped(slot, old, new)
            await old.batcher.close()
            # Thaw first so the replaced version (frozen at its own load) can be collected,
            # then freeze the new one (see app.py's lifespan).
            del old
            gc.unfreeze()
            gc.collect()
            gc.freeze()

        future = asyncio.run_coroutine_threadsafe(swap(), loop)
        future.result(_SWAP_TIMEOUT_S)

    return handle
