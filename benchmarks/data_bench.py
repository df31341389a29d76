"""``python -m benchmarks.run --suite data``: Shipyard's data versioning side by side with DVC.

Both tools run as their users run them, one command line per step, timed from
the outside (process start included for both). DVC works in a fresh git repo
with a local folder as its default remote; a step is ``dvc add`` then
``dvc push``. Shipyard's step is ``shipyard data add`` into the embedded local
store (a folder: SQLite metadata and a content-addressed blob folder), with a
fresh stat cache. Each tool adds its own copy of the same bytes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks import data_files
from benchmarks.environment import DVC_VENV, ensure_venv
from benchmarks.report import Row
from benchmarks.servers import free_port, serve

MIB = 1024 * 1024
RACY_WAIT_S = 2.5  # files younger than 2 s are not put in Shipyard's stat cache (like git's)


@dataclass(frozen=True)
class DataSizes:
    big_bytes: int
    big_files: int
    small_files: int
    changed_share: float = 0.01
    hash_repeat: int = 3


DATA_FULL = DataSizes(big_bytes=1024 * MIB, big_files=10, small_files=100_000)
DATA_QUICK = DataSizes(big_bytes=100 * MIB, big_files=10, small_files=5_000)


_CP_HOW = (
    "`cp -r` of the same folder, timed like the tools: what writing a copy of these "
    "files costs this machine's file system, with no tool involved"
)


class StepError(RuntimeError):
    pass


def ensure_dvc(console: Console, requirement: str = "dvc") -> str:
    return ensure_venv(console, "DVC", "dvc", requirement, DVC_VENV)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment a user's shell would give both tools: bytecode caches on."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SHIPYARD_", "DVC_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(DVC_NO_ANALYTICS="1", **extra)
    return env


def timed(argv: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> float:
    """Run a command line to completion; its wall time in seconds.

    Dirty pages are written out first, so that no command pays for the
    write-back of what the data generator or the other tool wrote before it.
    """
    os.sync()
    started = time.perf_counter()
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise StepError(
            f"{' '.join(str(a) for a in argv[:4])} failed ({done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        )
    return elapsed


class DataBench:
    def __init__(
        self, sizes: DataSizes, work: Path, console: Console, *, server: bool = True
    ) -> None:
        self.sizes = sizes
        self.work = work
        self.console = console
        self.with_server = server
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.hashing: dict[str, Any] = {}
        self.repo = work / "dvc-repo"  # DVC's git repo and workspace
        self.remote = work / "dvc-remote"
        self.src = work / "shipyard-src"  # Shipyard's copy of the same bytes
        self.store = work / "shipyard-store"
        self.dvc = DVC_VENV / "bin" / "dvc"
        self.dvc_env = _clean_env()
        self.sy_env = _clean_env(
            SHIPYARD_URI=str(self.store), SHIPYARD_CACHE_DIR=str(work / "shipyard-cache")
        )

    def step(self, text: str) -> None:
        self.console.print(f"[bold cyan]>[/] {text}")

    # -- the tools ---------------------------------------------------------------
    def dvc_add_push(self, target: str) -> tuple[float, float]:
        add = timed([self.dvc, "add", "-q", target], self.repo, self.dvc_env)
        push = timed([self.dvc, "push", "-q"], self.repo, self.dvc_env)
        return add, push

    def shipyard(self, *args: str | Path, env: dict[str, str] | None = None) -> float:
        argv = [sys.executable, "-m", "shipyard", "data", *args, "--quiet"]
        return timed(argv, self.work, env or self.sy_env)

    def setup(self) -> None:
        self.repo.mkdir(parents=True)
        self.remote.mkdir()
        steps: list[list[str | Path]] = [
            ["git", "init", "-q"],
            [self.dvc, "init", "-q"],
            [self.dvc, "config", "core.analytics", "false"],
            [self.dvc, "remote", "add", "-d", "local", self.remote],
        ]
        for argv in steps:
            timed(argv, self.repo, self.dvc_env)

    # -- the cases ---------------------------------------------------------------
    def run(self) -> None:
        s = self.sizes
        self.setup()
        self.step(
            f"writing the data twice (one copy per tool): {s.big_files} files of "
            f"{s.big_bytes // s.big_files // MIB} MiB, and {s.small_files:,} files of 1-10 KB"
        )
        roots = (self.repo, self.src)
        big_total = data_files.write_big([r / "big" for r in roots], s.big_files, s.big_bytes)
        small_total = data_files.write_small([r / "small" for r in roots], s.small_files)
        time.sleep(RACY_WAIT_S)
        big_label = f"{s.big_files} files, {big_total / MIB:,.0f} MiB"
        small_label = f"{s.small_files:,} files of 1-10 KB ({small_total / MIB:,.0f} MiB)"

        self.step(f"(a) add {big_label}")
        self.compare("data.big", f"(a) add {big_label}", "big", "big")
        self.copy_floor("data.big", "big")
        self.measure_hashing(big_total)

        self.step(f"(b) add {small_label}")
        self.compare("data.small", f"(b) add {small_label}", "small", "small")
        self.step("(c) add the small files again, unchanged")
        self.compare("data.small_unchanged", "(c) re-add (b) unchanged", "small", "small")

        share = s.changed_share
        changed = data_files.change_some([r / "small" for r in roots], s.small_files, share)
        self.step(f"(d) change {changed:,} of the small files ({share:.0%}) and add again")
        self.compare("data.small_changed", f"(d) re-add (b), {share:.0%} changed", "small", "small")

        self.step("get: the small files into an empty folder")
        self.get(s.small_files)
        if self.with_server:
            self.through_server(s.small_files)

    def compare(self, row_id: str, label: str, dvc_target: str, sy_target: str) -> None:
        add, push = self.dvc_add_push(dvc_target)
        sy = self.shipyard("add", self.src / sy_target, "--name", sy_target)
        self.console.print(
            f"  DVC {add + push:.2f} s (add {add:.2f} + push {push:.2f}), Shipyard {sy:.2f} s"
        )
        self.rows.append(
            Row(
                row_id, label, "s", False, [sy], [add + push],
                "`shipyard data add` into a local folder store",
                "`dvc add` then `dvc push` to a local folder remote",
                extra={"dvc_add_s": add, "dvc_push_s": push},
            )
        )  # fmt: skip

    def copy_floor(self, row_id: str, folder: str) -> float:
        """`cp -r` of the same folder: what writing a copy costs the machine, no tool at all."""
        copy: list[str | Path] = ["cp", "-r", self.src / folder, self.work / f"cp-{folder}"]
        floor = timed(copy, self.work, _clean_env())
        row = next(r for r in self.rows if r.id == row_id)
        row.extra |= {"cp_r_s": floor, "cp_r_how": _CP_HOW}
        self.console.print(f"  `cp -r` of the same files: {floor:.2f} s")
        return floor

    def get(self, files: int) -> None:
        # Moved aside, not deleted: on ext4 without a journal (as here) the inodes of
        # 100k files deleted in the last minutes make every new file's creation
        # scan past them, which would charge the deletion to the step after it.
        (self.repo / "small").rename(self.work / "dvc-workspace-moved")
        dvc = timed([self.dvc, "checkout", "-q", "small.dvc"], self.repo, self.dvc_env)
        dest = self.work / "shipyard-get"
        sy = self.shipyard("get", "small", dest)
        for tool, folder in (("DVC", self.repo / "small"), ("Shipyard", dest)):
            found, _ = data_files.tree_stats(folder)
            if found != files:
                self.notes.append(f"{tool} checked out {found} of {files} files")
        self.console.print(f"  DVC {dvc:.2f} s, Shipyard {sy:.2f} s")
        self.rows.append(
            Row(
                "data.get", f"get (d) ({files:,} files) into an empty folder", "s", False,
                [sy], [dvc],
                "`shipyard data get small DEST` from the local store (copies; every file's "
                "BLAKE3 verified)",
                "`dvc checkout small.dvc` from its local cache after moving the workspace "
                "copy aside (copies; DVC's default cache type on this filesystem)",
            )
        )  # fmt: skip
        self.copy_floor("data.get", "small")

    def measure_hashing(self, total: int) -> None:
        """Shipyard's hashing alone vs reading the same files with ``cat`` (page cache warm)."""
        from shipyard.data.scan import scan

        folder = self.src / "big"
        files = sorted(str(p) for p in folder.iterdir())
        cat_s, scan_s = [], []
        for _ in range(self.sizes.hash_repeat):
            started = time.perf_counter()
            subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)
            cat_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = scan(folder, use_cache=False, quiet=True)
            scan_s.append(time.perf_counter() - started)
            if result.hashed_bytes != total:
                self.notes.append(f"hashing read {result.hashed_bytes} of {total} bytes")
        cat_mb = total / statistics.median(cat_s) / 1e6
        scan_mb = total / statistics.median(scan_s) / 1e6
        cpu_mb = _blake3_in_memory_mb_per_s()
        self.hashing = {
            "bytes": total,
            "cat_s": cat_s,
            "scan_s": scan_s,
            "cat_mb_per_s": cat_mb,
            "hash_mb_per_s": scan_mb,
            "share_of_read_bandwidth": scan_mb / cat_mb,
            "blake3_in_memory_mb_per_s": cpu_mb,
            "share_of_in_memory_hashing": scan_mb / cpu_mb,
            "how": "median of repetitions; page cache warm (files just written and read); "
            "`cat FILES > /dev/null` vs shipyard.data.scan.scan(use_cache=False), in process",
        }
        self.console.print(
            f"  hashing: Shipyard {scan_mb:,.0f} MB/s, `cat` to /dev/null {cat_mb:,.0f} MB/s "
            f"({scan_mb / cat_mb:.0%} of read bandwidth, page cache warm); BLAKE3 of bytes "
            f"already in memory, all cores: {cpu_mb:,.0f} MB/s ({scan_mb / cpu_mb:.0%})"
        )

    def through_server(self, files: int) -> None:
        """(b) and get again, through ``shipyard server`` (SQLite, a blob folder), cold cache."""
        port = free_port()
        argv = [
            sys.executable, "-m", "shipyard", "server", "--host", "127.0.0.1",
            "--port", str(port), "--store", f"sqlite:///{self.work / 'server.db'}",
            "--artifacts", str(self.work / "server-blobs"), "--workers", "1",
        ]  # fmt: skip
        self.step(f"through `shipyard server`: add and get the {files:,} small files")
        with serve(argv, port, "/health", self.work / "server.log", env=_clean_env()) as url:
            env = _clean_env(
                SHIPYARD_URI=url, SHIPYARD_CACHE_DIR=str(self.work / "server-client-cache")
            )
            add = self.shipyard("add", self.src / "small", "--name", "small", env=env)
            get = self.shipyard("get", "small", self.work / "server-get", env=env)
        found, _ = data_files.tree_stats(self.work / "server-get")
        if found != files:
            self.notes.append(f"Shipyard through its server checked out {found} of {files} files")
        dvc_add = next(r for r in self.rows if r.id == "data.small").mlflow
        dvc_get = next(r for r in self.rows if r.id == "data.get").mlflow
        self.console.print(f"  Shipyard through its server: add {add:.2f} s, get {get:.2f} s")
        how = "through `shipyard server` on loopback (1 worker, SQLite, blob folder)"
        self.rows += [
            Row(
                "data.small.server", f"(b) add {files:,} small files, via server", "s", False,
                [add], dvc_add, f"`shipyard data add` {how}, cold stat cache",
                "as in (b): `dvc add` then `dvc push` to a local folder remote",
            ),
            Row(
                "data.get.server", f"get {files:,} small files, via server", "s", False,
                [get], dvc_get, f"`shipyard data get` {how}",
                "as in get: `dvc checkout` from its local cache",
            ),
        ]  # fmt: skip


def _blake3_in_memory_mb_per_s(size: int = 256 * MIB, repeat: int = 5) -> float:
    """BLAKE3 on bytes already in memory, on every core: the CPU's ceiling for hashing."""
    import blake3

    data = os.urandom(size)
    best = min(_time_hash(blake3.blake3, data) for _ in range(repeat))
    return size / best / 1e6


def _time_hash(hasher: Any, data: bytes) -> float:
    started = time.perf_counter()
    hasher(data, max_threads=hasher.AUTO).digest()
    return time.perf_counter() - started


def meta_of(sizes: DataSizes, dvc_version: str, hashing: dict[str, Any]) -> dict[str, Any]:
    return {"data_sizes": asdict(sizes), "dvc_version": dvc_version, "hashing": hashing}
