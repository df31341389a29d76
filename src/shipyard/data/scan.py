"""Walk a file or folder and hash what it holds into a :class:`Manifest`.

What is taken:

- regular files, under their path relative to the folder (a single file under its name);
- symlinks whose target lies inside the folder and is a file: stored as a copy
  of the target's content under the link's path (a manifest holds files only).

What is reported by name and skipped (or, with ``strict=True``, refused with
``InvalidInputError`` before anything is stored):

- symlinks that leave the folder, broken symlinks and symlinks to folders
  (those inside would store their files twice; those outside escape);
- FIFOs, sockets and devices;
- files and folders that cannot be read, or vanish while being read;
- names that cannot be a manifest path (backslashes, ``%``, non-UTF-8...).

Hashing runs on a thread pool (reads and BLAKE3 release the GIL); files whose
stat matches the :class:`StatCache` are not read at all.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import blake3

from shipyard.data.manifest import Manifest, ManifestEntry, check_path
from shipyard.data.progress import progress_bar
from shipyard.data.statcache import CachedStat, StatCache
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.store.localfiles import read_fd

__all__ = ["ScanResult", "Skipped", "hash_local_file", "scan"]

# Small files are read in one call and hashed on one thread; larger ones in
# chunks with blake3's own threads; the largest are memory-mapped.
_SMALL_FILE = 1024 * 1024
_MMAP_FILE = 16 * 1024 * 1024
_CHUNK = 1024 * 1024
_BATCH_FILES = 64
_BATCH_BYTES = 32 * 1024 * 1024
MAX_SHOWN_SKIPPED = 10


def local_workers() -> int:
    """Threads for reading local files: more overlap reads from a cold disk, but fight
    over the GIL when the files are cached.

    On two cores, eight threads hashed 50k cached small files in twice the time
    of one, and two lost little either way (cold: 1.6 s vs 1.5 s for eight, 2.2
    s for one). Large files are hashed by blake3's own threads.
    """
    return min(4, max(2, os.cpu_count() or 1))


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file left out, by its path relative to the scanned folder, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path} ({self.reason})"


@dataclass(slots=True)
class ScanResult:
    """The manifest of what was taken, where each file came from, and what was left out."""

    root: Path
    manifest: Manifest
    sources: dict[str, str]  # manifest path -> absolute local path
    skipped: list[Skipped] = field(default_factory=list)
    hashed: int = 0  # files read and hashed
    cached: int = 0  # files whose digest came from the stat cache
    hashed_bytes: int = 0
    # manifest path -> the file's (size, mtime_ns) when its digest was taken
    stat_keys: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(slots=True)
class _Candidate:
    source: str
    rel: str
    st: os.stat_result


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _name_problem(rel: str) -> str | None:
    try:
        rel.encode()
        check_path(rel)
    except UnicodeEncodeError:
        return "name is not valid UTF-8"
    except InvalidInputError as exc:
        return f"name not allowed: {exc.message}"
    return None


def _walk(root: str, skipped: list[Skipped]) -> Iterator[_Candidate]:
    real_root = os.path.realpath(root)
    inside = real_root.rstrip(os.sep) + os.sep
    stack: list[tuple[str, str]] = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listing = list(entries)
        except OSError as exc:
            skipped.append(Skipped(prefix.rstrip("/") or ".", f"unreadable folder: {exc.strerror}"))
            continue
        for entry in listing:
            rel = prefix + entry.name
            try:
                if entry.is_symlink():
                    found = _symlink(entry, real_root, inside)
                    if isinstance(found, str):
                        skipped.append(Skipped(rel, found))
                        continue
                    st = found
                elif entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                    continue
                else:
                    st = entry.stat(follow_symlinks=False)
                    if not stat.S_ISREG(st.st_mode):
                        skipped.append(Skipped(rel, _special_kind(st.st_mode)))
                        continue
            except OSError as exc:
                skipped.append(Skipped(rel, f"unreadable: {exc.strerror}"))
                continue
            problem = _name_problem(rel)
            if problem is not None:
                skipped.append(Skipped(rel, problem))
                continue
            yield _Candidate(entry.path, rel, st)


def _symlink(entry: os.DirEntry[str], real_root: str, inside: str) -> os.stat_result | str:
    """The target's stat for a link to a file inside the folder, else why it is skipped."""
    target = os.path.realpath(entry.path)
    if target != real_root and not target.startswith(inside):
        return f"symlink leaves the folder (to {target})"
    try:
        st = os.stat(entry.path)
    except FileNotFoundError:
        return "broken symlink"
    if stat.S_ISDIR(st.st_mode):
        return "symlink to a folder"
    if not stat.S_ISREG(st.st_mode):
        return f"symlink to a {_special_kind(st.st_mode)}"
    return st


def hash_local_file(path: str) -> tuple[str, int, os.stat_result]:
    """(digest, size, stat at open) of a file; ``ChangedError`` if it changed while read."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        before = os.fstat(fd)
        if before.st_size < _SMALL_FILE:
            # One byte more than the stat says: a file that grew, or whose size
            # the file system under-reports (procfs, some FUSE), reads long and
            # is refused below instead of being stored cut short.
            data = os.read(fd, before.st_size + 1)
            if 0 < len(data) < before.st_size:
                data += read_fd(fd, before.st_size + 1 - len(data))
            digest, size = blake3.blake3(data, max_threads=1).hexdigest(), len(data)
            after = os.fstat(fd)
            _check_unchanged(path, before, after, size)
            return digest, size, before
    finally:
        os.close(fd)
    return _hash_large(path)


def _check_unchanged(path: str, before: os.stat_result, after: os.stat_result, size: int) -> None:
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or (
        size != before.st_size
    ):
        raise ChangedError(path)


def _hash_large(path: str) -> tuple[str, int, os.stat_result]:
    with open(path, "rb", buffering=0) as handle:
        before = os.fstat(handle.fileno())
        if before.st_size >= _MMAP_FILE:
            hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
            hasher.update_mmap(path)
            digest, size = hasher.hexdigest(), before.st_size
        else:
            hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
            buffer = bytearray(_CHUNK)
            view = memoryview(buffer)
            size = 0
            while count := handle.readinto(buffer):
                hasher.update(view[:count])
                size += count
            digest = hasher.hexdigest()
        after = os.fstat(handle.fileno())
    _check_unchanged(path, before, after, size)
    return digest, size, before


class ChangedError(OSError):
    """A file's content changed while it was being hashed."""

    def __init__(self, path: str) -> None:
        super().__init__(0, "changed while being read", path)


@dataclass(slots=True)
class _Outcome:
    candidate: _Candidate
    digest: str = ""
    size: int = 0
    st: os.stat_result | None = None
    error: OSError | None = None


def _hash_batch(batch: Sequence[_Candidate]) -> list[_Outcome]:
    out: list[_Outcome] = []
    for candidate in batch:
        try:
            try:
                digest, size, st = hash_local_file(candidate.source)
            except ChangedError:
                digest, size, st = hash_local_file(candidate.source)  # once more, settled
            out.append(_Outcome(candidate, digest, size, st))
        except OSError as exc:
            out.append(_Outcome(candidate, error=exc))
    return out


def _batches(candidates: Sequence[_Candidate]) -> Iterator[list[_Candidate]]:
    batch: list[_Candidate] = []
    weight = 0
    for candidate in candidates:
        batch.append(candidate)
        weight += candidate.st.st_size
        if len(batch) >= _BATCH_FILES or weight >= _BATCH_BYTES:
            yield batch
            batch, weight = [], 0
    if batch:
        yield batch


def _refuse(skipped: Sequence[Skipped]) -> InvalidInputError:
    shown = "; ".join(str(item) for item in skipped[:MAX_SHOWN_SKIPPED])
    more = (
        f" and {len(skipped) - MAX_SHOWN_SKIPPED} more" if len(skipped) > MAX_SHOWN_SKIPPED else ""
    )
    return InvalidInputError(
        f"refusing to add: {len(skipped)} file(s) cannot be stored: {shown}{more} "
        "(without --strict they are skipped)"
    )


def _collect(path: Path, skipped: list[Skipped]) -> tuple[str, list[_Candidate]]:
    root = os.path.abspath(path)
    try:
        st = os.stat(root)
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such file or folder") from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        return root, sorted(_walk(root, skipped), key=lambda c: c.rel)
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInputError(f"{path} is a {_special_kind(st.st_mode)}, not a file or folder")
    name = os.path.basename(root)
    problem = _name_problem(name)
    if problem is not None:
        raise InvalidInputError(f"{path}: {problem}")
    return root, [_Candidate(root, name, st)]


def scan(
    path: str | os.PathLike[str],
    *,
    strict: bool = False,
    cache: StatCache | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    quiet: bool | None = None,
    on_hashed: Callable[[int], None] | None = None,
) -> ScanResult:
    """Hash a file or folder into a manifest (see the module docstring for what is taken)."""
    skipped: list[Skipped] = []
    root, candidates = _collect(Path(path), skipped)
    if strict and skipped:
        raise _refuse(skipped)
    own_cache = cache is None and use_cache
    stat_cache = cache if cache is not None else (StatCache() if use_cache else None)
    try:
        known = stat_cache.load(root) if stat_cache is not None else {}
        result, fresh = _hash_all(root, candidates, known, skipped, workers, quiet, on_hashed)
        if strict and result.skipped:
            raise _refuse(result.skipped)
        if stat_cache is not None:
            seen = set(result.sources.values())
            stat_cache.save(fresh, forget=[p for p in known if p not in seen])
    finally:
        if own_cache and stat_cache is not None:
            stat_cache.close()
    return result


def _hash_all(
    root: str,
    candidates: list[_Candidate],
    known: dict[str, CachedStat],
    skipped: list[Skipped],
    workers: int | None,
    quiet: bool | None,
    on_hashed: Callable[[int], None] | None,
) -> tuple[ScanResult, list[tuple[str, CachedStat]]]:
    entries: list[ManifestEntry] = []
    sources: dict[str, str] = {}
    stat_keys: dict[str, tuple[int, int]] = {}
    fresh: list[tuple[str, CachedStat]] = []
    to_hash: list[_Candidate] = []
    for candidate in candidates:
        row = known.get(candidate.source)
        if row is not None and row.matches(candidate.st):
            executable = bool(candidate.st.st_mode & stat.S_IXUSR)
            entries.append(ManifestEntry(candidate.rel, row.size, row.digest, executable))
            sources[candidate.rel] = candidate.source
            stat_keys[candidate.rel] = (candidate.st.st_size, candidate.st.st_mtime_ns)
        else:
            to_hash.append(candidate)
    cached = len(entries)
    hashed_bytes = 0
    total = sum(c.st.st_size for c in to_hash)
    with (
        progress_bar("Hashing", total, quiet=quiet) as advance,
        ThreadPoolExecutor(workers or local_workers()) as pool,
    ):
        for outcome in pool.map(_hash_batch, _batches(to_hash)):
            done = 0
            for item in outcome:
                rel, source = item.candidate.rel, item.candidate.source
                if item.st is None:
                    error = item.error
                    reason = (error.strerror or str(error)) if error else "unknown error"
                    if isinstance(error, FileNotFoundError):
                        reason = "vanished while being read"
                    skipped.append(Skipped(rel, f"unreadable: {reason}"))
                    continue
                executable = bool(item.st.st_mode & stat.S_IXUSR)
                entries.append(ManifestEntry(rel, item.size, item.digest, executable))
                sources[rel] = source
                stat_keys[rel] = (item.st.st_size, item.st.st_mtime_ns)
                fresh.append((source, CachedStat.of(item.st, item.digest)))
                done += item.size
            hashed_bytes += done
            advance(done)
            if on_hashed is not None:
                on_hashed(len(outcome))
    skipped.sort(key=lambda item: item.path)
    result = ScanResult(
        root=Path(root),
        manifest=Manifest(entries, check=False),
        sources=sources,
        skipped=skipped,
        hashed=len(fresh),
        cached=cached,
        hashed_bytes=hashed_bytes,
        stat_keys=stat_keys,
    )
    return result, fresh
