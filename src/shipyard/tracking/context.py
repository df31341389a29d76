"""What a run records about where it ran, captured at start without being asked.

Tags (prefix ``shipyard.``): ``git.commit``, ``git.branch``, ``git.dirty``,
``git.remote``, ``source.entry_point``, ``source.command``, ``python.version``,
``host``, ``user``, ``os``, ``cpu_count``, ``memory_bytes``, ``gpus``.

Artifacts: ``environment/requirements.txt`` (installed distributions, pinned),
``environment/system.json`` and, when tracked files differ from ``HEAD``,
``code/uncommitted.diff``.

Everything is best effort: no git, no repository, no ``nvidia-smi`` simply
leaves the matching tags out. The facts that cannot change while a process
lives (packages, machine, GPUs) are gathered once per process; git is asked
again for each run, with short timeouts.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import platform
import shlex
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TAG_PREFIX", "RunContext", "capture_context", "current_user"]

TAG_PREFIX = "shipyard."
REQUIREMENTS_PATH = "environment/requirements.txt"
SYSTEM_PATH = "environment/system.json"
DIFF_PATH = "code/uncommitted.diff"
MAX_DIFF_BYTES = 10 * 1024 * 1024
_GIT_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class RunContext:
    tags: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # artifact path -> content


def capture_context() -> RunContext:
    """Tags and small artifacts describing the code, the interpreter and the machine."""
    tags: dict[str, str] = {}
    files: dict[str, bytes] = {}
    system = _system_facts()
    for key in ("host", "user", "os", "cpu_count", "memory_bytes"):
        if system.get(key) is not None:
            tags[TAG_PREFIX + key] = str(system[key])
    tags[TAG_PREFIX + "python.version"] = platform.python_version()
    if system["gpus"]:
        tags[TAG_PREFIX + "gpus"] = ", ".join(gpu["name"] for gpu in system["gpus"])
    script = _entry_script()
    git = _git_facts(script.parent if script is not None else Path.cwd())
    if script is not None:
        tags[TAG_PREFIX + "source.entry_point"] = _relative_entry_point(script, git.get("root"))
    tags[TAG_PREFIX + "source.command"] = shlex.join([Path(sys.executable).name, *sys.argv])
    for key in ("commit", "branch", "dirty", "remote"):
        if git.get(key) is not None:
            tags[f"{TAG_PREFIX}git.{key}"] = str(git[key])
    diff = git.get("diff")
    if isinstance(diff, bytes) and diff:
        files[DIFF_PATH] = diff
    files[REQUIREMENTS_PATH] = _requirements().encode()
    files[SYSTEM_PATH] = json.dumps(system, indent=2, sort_keys=True).encode()
    return RunContext({k: v[:8000] for k, v in tags.items()}, files)


def current_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment nor the password database
        return None


# -- the machine and the interpreter (once per process) ---------------------
@functools.cache
def _system_facts() -> dict[str, Any]:
    return {
        "host": socket.gethostname(),
        "user": current_user(),
        "os": f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "gpus": _gpus(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
    }


def _gpus() -> list[dict[str, str]]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for line in out.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) == 3 and parts[0]:
            gpus.append({"name": parts[0], "memory": parts[1], "driver": parts[2]})
    return gpus


def _memory_bytes() -> int | None:
    try:  # POSIX: instant, where importing psutil costs a tenth of a second
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        pass
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:
        return None


@functools.cache
def _requirements() -> str:
    """``name==version`` of every installed distribution, as the import system sees them.

    ``*.dist-info`` folder names carry both (``name-version.dist-info``), which is
    several times faster than parsing each METADATA file; only the rare
    ``*.egg-info`` is read through :mod:`importlib.metadata`.
    """
    pins: dict[str, str] = {}
    for folder in sys.path:
        try:
            entries = list(os.scandir(folder or "."))
        except OSError:
            continue
        for entry in entries:
            pin = _pin_of(entry)
            if pin is not None:
                pins.setdefault(pin[0].lower().replace("_", "-"), f"{pin[0]}=={pin[1]}")
    return "".join(f"{pins[key]}\n" for key in sorted(pins))


def _pin_of(entry: os.DirEntry[str]) -> tuple[str, str] | None:
    if entry.name.endswith(".dist-info"):
        name, sep, version = entry.name[: -len(".dist-info")].partition("-")
        return (name, version) if sep and name and version else None
    if entry.name.endswith(".egg-info"):
        import importlib.metadata

        try:
            dist = importlib.metadata.PathDistribution(Path(entry.path))
            name = dist.metadata["Name"]
            return (name, dist.version) if name and dist.version else None
        except Exception:
            return None
    return None


# -- the code -----------------------------------------------------------------
def _entry_script() -> Path | None:
    main = sys.modules.get("__main__")
    candidate = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv else None)
    if not candidate or candidate in ("-c", "-m"):
        return None
    path = Path(candidate)
    return path.resolve() if path.is_file() else None


def _relative_entry_point(script: Path, root: object) -> str:
    if isinstance(root, str):
        try:
            return script.relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return str(script)


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _git_facts(cwd: Path) -> dict[str, object]:
    """Commit, branch, dirty flag, remote and diff of the repository holding ``cwd``."""
    if shutil.which("git") is None or not cwd.is_dir():
        return {}
    status = _git(cwd, "status", "--porcelain=v2", "--branch", "--untracked-files=no")
    if status is None or status.returncode != 0:
        return {}
    facts: dict[str, object] = {}
    dirty = False
    for line in status.stdout.decode(errors="replace").splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split(" ", 2)[2]
            if oid != "(initial)":
                facts["commit"] = oid
        elif line.startswith("# branch.head "):
            head = line.split(" ", 2)[2]
            if head != "(detached)":
                facts["branch"] = head
        elif not line.startswith("#"):
            dirty = True
    facts["dirty"] = "true" if dirty else "false"
    root = _git(cwd, "rev-parse", "--show-toplevel")
    if root is not None and root.returncode == 0:
        facts["root"] = root.stdout.decode(errors="replace").strip()
    remote = _git(cwd, "config", "--get", "remote.origin.url")
    if remote is not None and remote.returncode == 0 and remote.stdout.strip():
        facts["remote"] = _strip_credentials(remote.stdout.decode(errors="replace").strip())
    if dirty and "commit" in facts:
        diff = _git(cwd, "diff", "HEAD", "--no-color", "--no-ext-diff")
        if diff is not None and diff.returncode == 0:
            facts["diff"] = diff.stdout[:MAX_DIFF_BYTES]
    return facts


def _strip_credentials(url: str) -> str:
    """``https://user:token@host/repo`` must not end up in a tag."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url
