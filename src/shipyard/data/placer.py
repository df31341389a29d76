"""Placing one dataset file at a time in a checkout folder, verified (see checkout)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import threading
from collections.abc import Callable, Iterator
from typing import Literal, cast

import blake3

from shipyard.data.manifest import Manifest, ManifestEntry
from shipyard.data.scan import hash_local_file
from shipyard.data.statcache import CachedStat
from shipyard.errors import DataCorruptionError, InvalidInputError, NotFoundError, ShipyardError
from shipyard.store.base import BlobStore
from shipyard.store.hashing import new_hasher
from shipyard.store.localfiles import read_file
from shipyard.store.packs import PackedBlob

__all__ = ["SMALL_FILE", "FilePlacer", "LinkMode", "packed_locations"]

LinkMode = Literal["auto", "copy", "hardlink"]
_FICLONE = 0x40049409  # linux/fs.h; fcntl.FICLONE from Python 3.12
_NO_REFLINK = frozenset(
    {errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EPERM}
)
# Local blobs up to this size are read whole, checked in memory and written once.
SMALL_FILE = 1024 * 1024


class FilePlacer:
    """Places files under ``root``; shared by the worker threads."""

    def __init__(
        self,
        blobs: BlobStore,
        root: str,
        link: LinkMode,
        known: dict[str, CachedStat],
        packed: dict[str, PackedBlob],
    ) -> None:
        self.blobs = blobs
        self.packed = packed
        self._pack_fds: dict[str, int] = {}
        self.root = root
        self.real_root = os.path.realpath(root)
        self.link = link
        self.known = known
        self.rows: list[tuple[str, CachedStat]] = []
        self._folders: set[str] = set()
        self._lock = threading.Lock()
        self._local_path = _local_path_finder(blobs)
        # Reading from a local folder: threads only overlap the file system's work.
        self.local = bool(getattr(blobs, "is_local", False))
        # A server that sends many small blobs per request.
        self.fetches = not self.local and callable(getattr(blobs, "fetch_many", None))
        self._umask = _current_umask()
        self._can_reflink: bool | None = None

    def place(self, entry: ManifestEntry, advance: Callable[[int], None]) -> bool | ShipyardError:
        """True when written, False when already in place, or the error that stopped it."""
        try:
            target = self._prepare(entry)
            if target is not None:
                self._write(target, entry)
            advance(entry.size)
            return target is not None
        except ShipyardError as exc:
            return exc
        except OSError as exc:
            return _write_error(entry, exc)

    def place_many(
        self, entries: list[ManifestEntry], advance: Callable[[int], None]
    ) -> list[bool | ShipyardError]:
        """:meth:`place` for each; from a server, the small files come in one request."""
        fetch = getattr(self.blobs, "fetch_many", None)
        if not self.fetches or not callable(fetch):
            return [self.place(entry, advance) for entry in entries]
        outcomes: dict[int, bool | ShipyardError] = {}
        wanted: list[tuple[int, str]] = []  # (index, target) of small files to fetch
        for index, entry in enumerate(entries):
            if entry.size > SMALL_FILE:
                outcomes[index] = self.place(entry, advance)
                continue
            try:
                target = self._prepare(entry)
            except ShipyardError as exc:
                outcomes[index] = exc
                continue
            except OSError as exc:
                outcomes[index] = _write_error(entry, exc)
                continue
            if target is None:
                outcomes[index] = False
                advance(entry.size)
            else:
                wanted.append((index, target))
        if wanted:
            try:
                fetched = fetch([(entries[i].digest, entries[i].size) for i, _ in wanted])
            except ShipyardError as exc:  # said for each file, as for one-by-one downloads
                fetched = dict.fromkeys((entries[i].digest for i, _ in wanted), exc)
            for index, target in wanted:
                entry = entries[index]
                data = None if fetched is None else fetched.get(entry.digest)
                outcomes[index] = self._place_fetched(entry, target, data, advance)
        return [outcomes[index] for index in range(len(entries))]

    def _place_fetched(
        self,
        entry: ManifestEntry,
        target: str,
        data: bytes | ShipyardError | None,
        advance: Callable[[int], None],
    ) -> bool | ShipyardError:
        if isinstance(data, ShipyardError):
            return data
        try:
            if data is None:  # a server without batch downloads: one request for this file
                self._write(target, entry)
            else:
                # The fetch took a while: the folder must still be the one checked.
                self._check_still_inside(target, entry)
                self._copy_small(data, target, entry)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(_partial_path(target, entry))  # left by an interrupted download
        except ShipyardError as exc:
            return exc
        except OSError as exc:
            return _write_error(entry, exc)
        advance(entry.size)
        return True

    def _check_still_inside(self, target: str, entry: ManifestEntry) -> None:
        folder = os.path.dirname(target)
        expected = os.path.join(self.real_root, *entry.path.split("/")[:-1])
        if os.path.realpath(folder) != expected:
            raise InvalidInputError(
                f"refusing to write {entry.path}: its folder was replaced by a link meanwhile"
            )

    def _prepare(self, entry: ManifestEntry) -> str | None:
        """The target to write, or None when the right file is already in place."""
        target = self._target(entry)
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            return target
        if stat.S_ISDIR(st.st_mode):
            raise InvalidInputError(f"{target} is a folder where the dataset has a file")
        if self._in_place(target, st, entry):
            return None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)  # a stale file never stays under a verified name
        return target

    # -- where ------------------------------------------------------------------------
    def _target(self, entry: ManifestEntry) -> str:
        parts = entry.path.split("/")
        folder = self.root
        for part in parts[:-1]:
            folder = os.path.join(folder, part)
            self._ensure_folder(folder, entry.path)
        return os.path.join(folder, parts[-1])

    def _ensure_folder(self, folder: str, rel: str) -> None:
        if folder in self._folders:
            return
        try:
            st = os.lstat(folder)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder)
            st = os.lstat(folder)
        if stat.S_ISLNK(st.st_mode):
            raise InvalidInputError(f"refusing to write {rel} through the symlink {folder}")
        if not stat.S_ISDIR(st.st_mode):
            raise InvalidInputError(f"{folder} is a file where the dataset has a folder")
        with self._lock:
            self._folders.add(folder)

    # -- what is there already ----------------------------------------------------------
    def _in_place(self, target: str, st: os.stat_result, entry: ManifestEntry) -> bool:
        if not stat.S_ISREG(st.st_mode) or st.st_size != entry.size:
            return False
        row = self.known.get(target)
        if row is None or not row.matches(st):
            try:
                digest, _, st = hash_local_file(target)
            except OSError:
                return False
            row = CachedStat.of(st, digest)
            with self._lock:
                self.rows.append((target, row))
        if row.digest != entry.digest:
            return False
        self._apply_mode(target, st, entry)
        return True

    def _apply_mode(self, path: str, st: os.stat_result, entry: ManifestEntry) -> None:
        if st.st_nlink > 1 and not st.st_mode & stat.S_IWUSR:
            return  # a hard link to a read-only blob: its mode is the store's
        wanted = 0o777 if entry.executable else 0o666
        mode = wanted & ~self._umask
        if stat.S_IMODE(st.st_mode) != mode:
            os.chmod(path, mode)

    # -- writing ------------------------------------------------------------------------
    def _write(self, target: str, entry: ManifestEntry) -> None:
        packed = self.packed.get(entry.digest)
        if packed is not None:  # never linked: the bytes are inside a pack file
            self._copy_small(self._read_packed(packed), target, entry)
            return
        local = self._local_path(entry.digest)
        if (
            local is not None
            and entry.size <= SMALL_FILE
            and (self.link == "copy" or (self.link == "auto" and self._can_reflink is False))
        ):
            self._copy_small(_read_blob(local, entry.size), target, entry)
            return
        if local is not None and not os.path.exists(local):
            raise NotFoundError(f"blob {entry.digest} is missing from the store")
        partial = _partial_path(target, entry)
        try:
            if local is not None and self.link == "hardlink":
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(partial)
                os.link(local, partial)
                self._verify_file(partial, entry)
            elif local is not None and self.link == "auto" and self._reflink(local, partial):
                self._verify_file(partial, entry)
            else:
                self._stream(partial, entry)
            st = os.stat(partial)
            self._apply_mode(partial, st, entry)
            os.replace(partial, target)
        except DataCorruptionError:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise
        except BaseException:
            # A partial download is kept for the next attempt to resume; a local
            # copy is cheap to redo.
            if local is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(partial)
            raise
        st = os.stat(target)
        with self._lock:
            self.rows.append((target, CachedStat.of(st, entry.digest)))

    def _read_packed(self, packed: PackedBlob) -> bytes:
        try:
            fd = self._pack_fd(packed.path)
        except FileNotFoundError:
            # gc rewrote the pack since the checkout began: where is the blob now?
            moved = packed_locations_of(self.blobs, [packed.digest]).get(packed.digest)
            if moved is None:
                raise NotFoundError(f"blob {packed.digest} is missing from the store") from None
            packed, fd = moved, self._pack_fd(moved.path)
        return os.pread(fd, packed.size, packed.offset)

    def _pack_fd(self, path: str) -> int:
        fd = self._pack_fds.get(path)
        if fd is None:
            with self._lock:
                fd = self._pack_fds.get(path)
                if fd is None:
                    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                    self._pack_fds[path] = fd
        return fd

    def close(self) -> None:
        for fd in self._pack_fds.values():
            os.close(fd)
        self._pack_fds.clear()

    def _copy_small(self, data: bytes, target: str, entry: ManifestEntry) -> None:
        """A small blob's bytes, verified in memory, then written straight to ``target``.

        No ``.part`` file: the bytes are known good before the file exists, and
        a write that fails (a full disk) removes it. Only a killed process can
        leave it short, and the next checkout then finds its size or hash wrong.
        """
        digest = blake3.blake3(data, max_threads=1).hexdigest()
        if digest != entry.digest or len(data) != entry.size:
            raise DataCorruptionError(
                f"blob {entry.digest} is corrupt: its content hashes to {digest} "
                f"({len(data)} bytes)"
            )
        # Created with the final mode (the umask applies), so no chmod follows.
        mode = 0o777 if entry.executable else 0o666
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(target, flags, mode)
        try:
            _write_whole(fd, data)
            st = os.fstat(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
            raise
        os.close(fd)
        with self._lock:
            self.rows.append((target, CachedStat.of(st, entry.digest)))

    def _reflink(self, source: str, partial: str) -> bool:
        if self._can_reflink is False:
            return False
        cloned = _reflink(source, partial)
        self._can_reflink = cloned  # one refusal means this filesystem pair cannot
        return cloned

    def _verify_file(self, path: str, entry: ManifestEntry) -> None:
        digest, size, _ = hash_local_file(path)
        if digest != entry.digest or size != entry.size:
            raise DataCorruptionError(
                f"blob {entry.digest} is corrupt: its content hashes to {digest} ({size} bytes)"
            )

    def _stream(self, partial: str, entry: ManifestEntry) -> None:
        try:
            have = os.stat(partial).st_size
        except FileNotFoundError:
            have = 0
        if 0 < have < entry.size and self._local_path(entry.digest) is None:
            with open(partial, "ab") as out:
                for chunk in self.blobs.open(entry.digest, offset=have):
                    out.write(chunk)
            try:
                self._verify_file(partial, entry)
                return
            except DataCorruptionError:
                pass  # the old part was bad: start over below
        with open(partial, "wb") as out:
            hasher = new_hasher()
            size = 0
            for chunk in _chunks(self.blobs, entry.digest):
                hasher.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if hasher.hexdigest() != entry.digest or size != entry.size:
            raise DataCorruptionError(
                f"blob {entry.digest} is corrupt: it hashes to {hasher.hexdigest()} "
                f"({size} bytes, {entry.size} expected)"
            )


def _partial_path(target: str, entry: ManifestEntry) -> str:
    """Where a file is written before it is checked and renamed to ``target``."""
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.{entry.digest[:16]}.part")


def _write_error(entry: ManifestEntry, exc: OSError) -> ShipyardError:
    return ShipyardError(f"could not write {entry.path}: {exc}")


def _read_blob(path: str, size: int) -> bytes:
    """A loose blob's first ``size`` bytes (its hash then says whether they are the blob)."""
    try:
        return read_file(path, size)
    except FileNotFoundError:
        raise NotFoundError(f"blob {os.path.basename(path)} is missing from the store") from None


def _write_whole(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _chunks(blobs: BlobStore, digest: str) -> Iterator[bytes]:
    yield from blobs.open(digest)


def packed_locations(blobs: BlobStore, manifest: Manifest) -> dict[str, PackedBlob]:
    """Where the manifest's packed blobs are (a local folder store), looked up at once."""
    return packed_locations_of(blobs, sorted(manifest.digests()))


def packed_locations_of(blobs: BlobStore, digests: list[str]) -> dict[str, PackedBlob]:
    finder = getattr(blobs, "packed_locations", None)
    if not callable(finder):
        return {}
    return cast(dict[str, PackedBlob], finder(digests))


def _local_path_finder(blobs: BlobStore) -> Callable[[str], str | None]:
    finder = getattr(blobs, "local_path", None)
    if callable(finder):
        return finder  # type: ignore[no-any-return]
    return lambda digest: None


def _reflink(source: str, partial: str) -> bool:
    """Clone ``source`` into ``partial`` (copy-on-write); False where the filesystem cannot."""
    with open(source, "rb") as src, open(partial, "wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
        except OSError as exc:
            if exc.errno in _NO_REFLINK:
                dst.close()
                os.unlink(partial)
                return False
            raise
    return True


def _current_umask() -> int:
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    # Elsewhere os.umask can only be read by setting it (briefly, once per checkout).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
