"""Which runs are active, per context, and what happens to them at interpreter exit.

The active-run stack is a :class:`contextvars.ContextVar` holding an immutable
tuple: each thread and each asyncio task sees its own stack (a new thread
starts with an empty one), and pushing never mutates a tuple another context
holds. Every run that has not ended is also kept in a process-wide registry so
that an ``atexit`` hook can flush its metrics and end it: FINISHED on a normal
exit, FAILED when the interpreter exits on an uncaught exception, KILLED on
``KeyboardInterrupt``.
"""

from __future__ import annotations

import atexit
import contextvars
import sys
import threading
from typing import TYPE_CHECKING

from shipyard.entities import RunStatus

if TYPE_CHECKING:
    from shipyard.tracking.active_run import ActiveRun

__all__ = [
    "current_experiment",
    "current_run",
    "push",
    "remove",
    "set_current_experiment",
]

_stack: contextvars.ContextVar[tuple[ActiveRun, ...]] = contextvars.ContextVar(
    "shipyard_active_runs", default=()
)
_lock = threading.Lock()
_live: dict[str, ActiveRun] = {}  # every run not yet ended in this process, oldest first
_hook_installed = False
_experiment: str | None = None


def current_run() -> ActiveRun | None:
    # A run ended from another context is still on this context's stack: skip it.
    for run in reversed(_stack.get()):
        if not run.ended:
            return run
    return None


def push(run: ActiveRun) -> None:
    global _hook_installed
    _stack.set((*(r for r in _stack.get() if not r.ended), run))
    with _lock:
        _live[run.id] = run
        if not _hook_installed:
            atexit.register(_end_live_runs)
            _hook_installed = True


def remove(run: ActiveRun) -> None:
    stack = _stack.get()
    if run in stack:
        _stack.set(tuple(r for r in stack if r is not run))
    with _lock:
        _live.pop(run.id, None)


def set_current_experiment(name: str | None) -> None:
    global _experiment
    _experiment = name


def current_experiment() -> str | None:
    return _experiment


def exit_status() -> RunStatus:
    """How the interpreter is leaving: Python sets ``sys.last_value`` on an uncaught exception."""
    error = getattr(sys, "last_value", None)
    if isinstance(error, KeyboardInterrupt):
        return RunStatus.KILLED
    if isinstance(error, BaseException) and not isinstance(error, SystemExit):
        return RunStatus.FAILED
    return RunStatus.FINISHED


def _end_live_runs() -> None:
    with _lock:
        runs = list(_live.values())
    status = exit_status()
    for run in reversed(runs):  # children before their parents
        run.end_quietly(status)
