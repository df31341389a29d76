"""Content-addressed blob store over a local folder or any fsspec filesystem.

Layout::

    <root>/blobs/ab/abcd...      a local folder: one file per blob, named by its BLAKE3 digest
    <root>/blobs/ab/cd/abcd...   object stores and other filesystems
    <root>/tmp/                  uploads in progress (local folder and non-atomic filesystems)

A local folder has one level of 256 shards: every further folder is an inode
and a directory block to create, which for many small blobs cost as much as
the blobs themselves. Local stores written before that layout (two levels,
recognised by a ``blobs/`` folder without the ``LAYOUT`` marker) stay readable: lookups fall
back to the old place, and new blobs go to the new one. Object stores keep two
levels: there a folder costs nothing, and a listing per shard answers
``missing`` in fewer, smaller pages.

A local folder is served with plain ``os`` calls (creating many small files is
the cost that matters there, and fsspec's layers would add to it); every other
URL (``s3://bucket/prefix``, ``memory://``, ``gcs://``...) goes through fsspec.
Either way ``put`` streams: the bytes are hashed while they are written to a
temporary file, and only a complete, verified blob appears under its digest.

S3 endpoints: ``storage_options={"endpoint_url": ...}``, or the environment:
``SHIPYARD_S3_ENDPOINT_URL`` (read here), or ``AWS_ENDPOINT_URL`` /
``AWS_ENDPOINT_URL_S3`` (read by botocore itself, so honoured by s3fs too).

Many small blobs could later be packed (several blobs per pack file plus an
index, as git and restic do): that would be one more :class:`_Backend` that
answers from its packs and falls back to loose blobs, leaving this class as is.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import errno
import heapq
import os
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO, NamedTuple, cast

import fsspec
from fsspec.implementations.local import LocalFileSystem

from shipyard.errors import DataCorruptionError, InvalidInputError, NotFoundError
from shipyard.store.base import BlobStore
from shipyard.store.blob_reader import BlobReader
from shipyard.store.hashing import (
    CHUNK_SIZE,
    copy_hashing,
    is_digest,
    validate_digest,
    validate_digests,
)
from shipyard.store.localfiles import fsync_folder
from shipyard.store.pack_compaction import CompactResult
from shipyard.store.pack_compaction import compact as compact_packs
from shipyard.store.pack_files import PackSlice
from shipyard.store.packs import PackedBlob, PackedSource, PackIndex

__all__ = ["FsspecBlobStore", "StoredBlob"]

BLOBS_FOLDER = "blobs"
TMP_FOLDER = "tmp"
# Object stores publish an upload only when it is complete, so a blob can be
# written straight to its final key; elsewhere it goes to tmp/ and is moved.
_ATOMIC_UPLOAD_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"})
_UPLOAD_BLOCK_SIZE = 8 * 1024 * 1024
_LISTING_WORKERS = 16


LAYOUT_MARKER = "LAYOUT"
_FLAT_LAYOUT = "flat-256\n"


def blob_key(digest: str) -> str:
    """``blobs/ab/cd/abcd...``: where an object store keeps a blob."""
    return f"{BLOBS_FOLDER}/{digest[:2]}/{digest[2:4]}/{digest}"


def local_blob_key(digest: str) -> str:
    """``blobs/ab/abcd...``: where a local folder store keeps a blob."""
    return f"{BLOBS_FOLDER}/{digest[:2]}/{digest}"


class StoredBlob(NamedTuple):
    """One stored blob as a listing sees it; ``modified`` is in seconds since the epoch."""

    digest: str
    size: int
    modified: float
    packed: bool = False  # in a pack file: deleting it frees space only when compacted


def _mismatch(expected: str, actual: str) -> DataCorruptionError:
    return DataCorruptionError(f"content hashes to {actual}, not the expected {expected}")


class _Backend(abc.ABC):
    """Where loose blobs live; the seam a pack-file layer would wrap."""

    @abc.abstractmethod
    def put(self, source: BinaryIO, expected_digest: str | None) -> tuple[str, int]: ...

    @abc.abstractmethod
    def open_blob(self, digest: str) -> tuple[BinaryIO, int]:
        """An open handle on the blob and its size; ``NotFoundError`` when absent."""

    @abc.abstractmethod
    def size(self, digest: str) -> int | None: ...

    @abc.abstractmethod
    def missing(self, digests: list[str]) -> set[str]: ...


class _LocalBackend(_Backend):
    def __init__(self, root: str, fsync: bool) -> None:
        self.root = root
        self._fsync = fsync
        self._tmp = os.path.join(root, TMP_FOLDER)
        self._blobs = os.path.join(root, BLOBS_FOLDER)
        self._known_dirs: set[str] = set()
        # True for a store that may still hold blobs in the two-level layout.
        self.legacy = not _is_flat_layout(self._blobs)
        self._marked = self.legacy
        self.packs = PackIndex(root)

    def _path(self, digest: str) -> str:
        """Where a new blob goes, and where every blob of a current store is."""
        return os.path.join(self._blobs, digest[:2], digest)

    def _legacy_path(self, digest: str) -> str:
        return os.path.join(self._blobs, digest[:2], digest[2:4], digest)

    def find(self, digest: str) -> str | None:
        """The stored blob's file, in either layout, or None when it is absent."""
        path = self._path(digest)
        if os.path.isfile(path):
            return path
        if self.legacy:
            old = self._legacy_path(digest)
            if os.path.isfile(old):
                return old
        return None

    def _size(self, digest: str) -> int | None:
        st = self._stat(digest)
        if st is not None:
            return st.st_size
        packed = self.packs.locate(digest)
        return None if packed is None else packed.size

    def _stat(self, digest: str) -> os.stat_result | None:
        paths = (
            (self._path(digest), self._legacy_path(digest))
            if self.legacy
            else (self._path(digest),)
        )
        for path in paths:
            try:
                st = os.stat(path)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if stat.S_ISREG(st.st_mode):
                return st
        return None

    def _ensure_dir(self, path: str) -> None:
        if path not in self._known_dirs:
            if not self._marked:
                # Before the first shard: a folder holding blobs says which layout.
                os.makedirs(self._blobs, exist_ok=True)
                _mark_flat_layout(self._blobs)
                self._marked = True
            os.makedirs(path, exist_ok=True)
            self._known_dirs.add(path)

    def _temp_file(self) -> tuple[int, str]:
        try:
            return tempfile.mkstemp(dir=self._tmp, prefix="put-")
        except FileNotFoundError:
            os.makedirs(self._tmp, exist_ok=True)
            return tempfile.mkstemp(dir=self._tmp, prefix="put-")

    def put(self, source: BinaryIO, expected_digest: str | None) -> tuple[str, int]:
        fd, tmp_path = self._temp_file()
        published = False
        try:
            with os.fdopen(fd, "wb") as out:
                digest, size = copy_hashing(source, out)
                if self._fsync:
                    out.flush()
                    os.fsync(out.fileno())
            if expected_digest is not None and digest != expected_digest:
                raise _mismatch(expected_digest, digest)
            final = self._path(digest)
            # A stored blob of the wrong size (a torn write) is replaced: that
            # check costs one stat and repairs the store on the next upload.
            if self.size(digest) == size:
                return digest, size
            self._ensure_dir(os.path.dirname(final))
            # Blobs never change; read-only files guard against stray edits.
            os.chmod(tmp_path, 0o444)
            os.replace(tmp_path, final)
            published = True
            if self._fsync:
                fsync_folder(os.path.dirname(final))
            return digest, size
        finally:
            if not published:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_path)

    def put_path(self, path: str, digest: str, size: int, stat_key: tuple[int, int]) -> bool:
        """Copy a file whose digest the caller computed while its stat was ``stat_key``.

        The copy is trusted without a second hash when the source's (size,
        mtime_ns) still equals ``stat_key`` before and after it; otherwise it
        goes through ``put``, which hashes and refuses a changed file.
        """
        if self.size(digest) == size:
            return False
        final = self._path(digest)
        tmp_path = os.path.join(self._tmp, f"put-{uuid.uuid4().hex}")
        published = False
        try:
            with open(path, "rb", buffering=0) as source:
                before = os.fstat(source.fileno())
                if (before.st_size, before.st_mtime_ns) != stat_key or before.st_size != size:
                    return self._put_hashing(source, digest)
                out = self._create_read_only(tmp_path)
                try:
                    _copy_fd(source.fileno(), out, size)
                    if self._fsync:
                        os.fsync(out)
                finally:
                    os.close(out)
                after = os.fstat(source.fileno())
                if (after.st_size, after.st_mtime_ns) != stat_key:
                    return self._put_hashing(source, digest)
            self._ensure_dir(os.path.dirname(final))
            os.replace(tmp_path, final)
            published = True
            if self._fsync:
                fsync_folder(os.path.dirname(final))
            return True
        finally:
            if not published:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp_path)

    def _put_hashing(self, source: BinaryIO, digest: str) -> bool:
        source.seek(0)
        self.put(source, digest)
        return True

    def _create_read_only(self, tmp_path: str) -> int:
        # Created read-only: blobs never change, and no chmod is then needed.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            return os.open(tmp_path, flags, 0o444)
        except FileNotFoundError:
            os.makedirs(self._tmp, exist_ok=True)
            return os.open(tmp_path, flags, 0o444)

    def open_blob(self, digest: str) -> tuple[BinaryIO, int]:
        handle = self._open_loose(self._path(digest))
        if handle is None and self.legacy:
            handle = self._open_loose(self._legacy_path(digest))
        if handle is not None:
            return handle, os.fstat(handle.fileno()).st_size
        # A pack is rewritten under a new name by gc: look it up again once.
        for _ in range(2):
            packed = self.packs.locate(digest)
            if packed is None:
                break
            with contextlib.suppress(FileNotFoundError):
                return cast(BinaryIO, PackSlice(packed.path, packed.offset, packed.size)), (
                    packed.size
                )
        # Last, the old layout even in a marked store: an older Shipyard may have
        # written there since.
        handle = None if self.legacy else self._open_loose(self._legacy_path(digest))
        if handle is not None:
            return handle, os.fstat(handle.fileno()).st_size
        raise NotFoundError(f"blob {digest} not found")

    @staticmethod
    def _open_loose(path: str) -> BinaryIO | None:
        try:
            return open(path, "rb")
        except (FileNotFoundError, NotADirectoryError):
            return None

    def size(self, digest: str) -> int | None:
        return self._size(digest)

    def missing(self, digests: list[str]) -> set[str]:
        loose_absent = [digest for digest in digests if self.find(digest) is None]
        packed = self.packs.locate_many(loose_absent) if loose_absent else {}
        return {digest for digest in loose_absent if digest not in packed}

    def delete(self, digest: str) -> bool:
        removed = self.packs.forget(digest)
        for path in (self._path(digest), self._legacy_path(digest)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                removed = True
        return removed


def _is_flat_layout(blobs: str) -> bool:
    """True when ``blobs`` holds the one-level layout: it says so, or holds nothing yet.

    A folder that cannot be read counts as possibly old: reads then look in
    both places. Nothing is written here; :meth:`_LocalBackend._ensure_dir`
    writes the marker with the first blob.
    """
    try:
        with open(os.path.join(blobs, LAYOUT_MARKER), encoding="utf-8") as handle:
            return handle.read() == _FLAT_LAYOUT
    except FileNotFoundError:
        pass
    except OSError:
        return False
    try:
        with os.scandir(blobs) as entries:
            return not any(entries)
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _mark_flat_layout(blobs: str) -> None:
    marker = os.path.join(blobs, LAYOUT_MARKER)
    with contextlib.suppress(FileExistsError), open(marker, "x", encoding="utf-8") as handle:
        handle.write(_FLAT_LAYOUT)


def _copy_fd(source: int, target: int, size: int) -> None:
    """Copy ``size`` bytes in the kernel where it can (reflinks on btrfs/XFS), else by reads."""
    copied = 0
    if hasattr(os, "copy_file_range"):
        try:
            while copied < size:
                count = os.copy_file_range(source, target, size - copied)
                if count == 0:
                    break
                copied += count
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
    if copied < size:
        os.lseek(source, copied, os.SEEK_SET)
        os.lseek(target, copied, os.SEEK_SET)
        while chunk := os.read(source, CHUNK_SIZE):
            os.write(target, chunk)
            copied += len(chunk)
    if copied != size:
        raise OSError(errno.EIO, f"copied {copied} bytes, expected {size}")


class _FsspecBackend(_Backend):
    def __init__(self, fs: Any, root: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
        self._atomic_upload = bool(_ATOMIC_UPLOAD_PROTOCOLS.intersection(protocols))

    def _path(self, digest: str) -> str:
        return f"{self.root}/{blob_key(digest)}"

    def put(self, source: BinaryIO, expected_digest: str | None) -> tuple[str, int]:
        # Hash into a local spool first: the digest names the object, and a blob
        # already stored is then never uploaded again.
        with tempfile.TemporaryFile(prefix="shipyard-put-") as spool:
            digest, size = copy_hashing(source, spool)
            if expected_digest is not None and digest != expected_digest:
                raise _mismatch(expected_digest, digest)
            if self.size(digest) == size:
                return digest, size
            spool.seek(0)
            final = self._path(digest)
            if self._atomic_upload:
                self._upload(spool, final)
            else:
                staging = f"{self.root}/{TMP_FOLDER}/{uuid.uuid4().hex}"
                self.fs.makedirs(f"{self.root}/{TMP_FOLDER}", exist_ok=True)
                self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
                self._upload(spool, staging)
                try:
                    self.fs.mv(staging, final)
                except BaseException:
                    with contextlib.suppress(Exception):
                        self.fs.rm(staging)
                    raise
            return digest, size

    def _upload(self, spool: BinaryIO, path: str) -> None:
        out = self.fs.open(path, "wb", block_size=_UPLOAD_BLOCK_SIZE)
        try:
            shutil.copyfileobj(spool, out, CHUNK_SIZE)
        except BaseException:
            # Closing would commit what was sent so far (a truncated object
            # under a valid digest): abort the upload instead.
            with contextlib.suppress(Exception):
                out.discard()
            with contextlib.suppress(AttributeError):
                out.closed = True
            raise
        out.close()

    def open_blob(self, digest: str) -> tuple[BinaryIO, int]:
        try:
            handle: BinaryIO = self.fs.open(self._path(digest), "rb", block_size=CHUNK_SIZE)
        except FileNotFoundError:
            raise NotFoundError(f"blob {digest} not found") from None
        try:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(0)
        except BaseException:
            handle.close()
            raise
        return handle, size

    def size(self, digest: str) -> int | None:
        try:
            return int(self.fs.size(self._path(digest)))
        except FileNotFoundError:
            return None

    def missing(self, digests: list[str]) -> set[str]:
        # One listing per shard folder answers for every digest in it, present
        # or not, where a HEAD per digest would cost one or two requests each.
        by_shard: dict[str, list[str]] = {}
        for digest in digests:
            by_shard.setdefault(digest[:4], []).append(digest)

        def absent_in(shard: str) -> set[str]:
            folder = f"{self.root}/{BLOBS_FOLDER}/{shard[:2]}/{shard[2:]}"
            try:
                names = {name.rsplit("/", 1)[-1] for name in self.fs.ls(folder, detail=False)}
            except FileNotFoundError:
                names = set()
            return {digest for digest in by_shard[shard] if digest not in names}

        if len(by_shard) == 1:
            return absent_in(next(iter(by_shard)))
        with ThreadPoolExecutor(min(_LISTING_WORKERS, len(by_shard))) as pool:
            return set().union(*pool.map(absent_in, by_shard))


def _storage_options(url: str, options: dict[str, Any] | None) -> dict[str, Any]:
    merged = dict(options or {})
    protocol = url.split("://", 1)[0] if "://" in url else "file"
    if protocol in ("s3", "s3a"):
        endpoint = os.environ.get("SHIPYARD_S3_ENDPOINT_URL")
        client_kwargs = merged.get("client_kwargs") or {}
        if endpoint and "endpoint_url" not in merged and "endpoint_url" not in client_kwargs:
            merged["endpoint_url"] = endpoint
    if protocol != "file":
        # A cached listing goes stale when another process adds a blob, and
        # would then hide it from open() and exists().
        merged.setdefault("use_listings_cache", False)
    return merged


class FsspecBlobStore(BlobStore):
    """Blobs under ``url``: a folder path or any fsspec URL.

    ``fsync=True`` flushes each new local blob to disk before it is published:
    safe against power loss, several times slower for many small files. Without
    it a blob torn by a crash is caught by the hash check on read and repaired
    by the next ``put`` of the same content.
    """

    def __init__(
        self,
        url: str,
        storage_options: dict[str, Any] | None = None,
        *,
        fsync: bool = False,
    ) -> None:
        self.url = url
        try:
            fs, root = fsspec.core.url_to_fs(url, **_storage_options(url, storage_options))
        except ValueError as exc:  # fsspec's "Protocol not known: foo"
            raise InvalidInputError(f"cannot open the blob store {url!r}: {exc}") from None
        self._backend: _Backend
        if isinstance(fs, LocalFileSystem):
            self._backend = _LocalBackend(os.path.abspath(root), fsync)
        else:
            self._backend = _FsspecBackend(fs, root)

    def __repr__(self) -> str:
        return f"FsspecBlobStore({self.url!r})"

    def put(self, source: BinaryIO, expected_digest: str | None = None) -> tuple[str, int]:
        if expected_digest is not None:
            validate_digest(expected_digest, "expected digest")
        return self._backend.put(source, expected_digest)

    def put_path(
        self, path: str, digest: str, size: int, stat_key: tuple[int, int] | None = None
    ) -> bool:
        """Store the file at ``path`` whose digest and size the caller already knows.

        ``stat_key`` is the file's (size, mtime_ns) when it was hashed: on a
        local folder, while the file still shows it the bytes are copied
        without hashing them again. Elsewhere, or without it, this is ``put``
        with ``expected_digest``. True when the blob was stored, False when it
        was already there (local folder only; elsewhere always True).
        """
        validate_digest(digest)
        backend = self._backend
        if isinstance(backend, _LocalBackend) and stat_key is not None:
            return backend.put_path(path, digest, size, stat_key)
        with open(path, "rb") as handle:
            backend.put(handle, digest)
        return True

    def open(self, digest: str, offset: int = 0) -> BlobReader:
        """Chunks from ``offset``; read whole, the last chunk comes only after the hash
        matched (see :class:`BlobReader`). ``NotFoundError`` is raised here, at once."""
        validate_digest(digest)
        handle, size = self._backend.open_blob(digest)
        return BlobReader(handle, digest, size, offset)

    def exists(self, digest: str) -> bool:
        return self._backend.size(validate_digest(digest)) is not None

    def missing(self, digests: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(validate_digests(digests)))
        return self._backend.missing(wanted) if wanted else set()

    def size(self, digest: str) -> int:
        found = self._backend.size(validate_digest(digest))
        if found is None:
            raise NotFoundError(f"blob {digest} not found")
        return found

    # -- maintenance: local checkouts and ``shipyard gc`` -----------------------------
    def local_path(self, digest: str) -> str | None:
        """The blob's loose file when this store is a local folder, else None.

        A packed blob has no file of its own: the path returned then does not
        exist (see :meth:`packed_locations`).

        For reflinks and hard links on checkout; the file is read-only and must
        never be written to.
        """
        validate_digest(digest)
        backend = self._backend
        if not isinstance(backend, _LocalBackend):
            return None
        return backend.find(digest) or backend._path(digest)

    @property
    def is_local(self) -> bool:
        """True for a local folder (where bulk uploads of small blobs go to :meth:`pack`)."""
        return isinstance(self._backend, _LocalBackend)

    def pack(self, sources: Sequence[PackedSource]) -> int:
        """Store small files as one new pack (see :mod:`shipyard.store.packs`); blobs packed.

        Each file is hashed again while read; one that no longer matches its
        digest raises ``DataCorruptionError`` and nothing of the pack is kept.
        """
        backend = self._backend
        if not isinstance(backend, _LocalBackend):
            raise InvalidInputError(f"{self.url} is not a local folder: pack files are local only")
        validate_digests(source.digest for source in sources)
        return backend.packs.write(sources) if sources else 0

    def pack_blobs(self, blobs: Sequence[tuple[str, bytes]]) -> int:
        """Store ``(digest, bytes)`` pairs as one new pack; as :meth:`pack`, from memory."""
        backend = self._backend
        if not isinstance(backend, _LocalBackend):
            raise InvalidInputError(f"{self.url} is not a local folder: pack files are local only")
        validate_digests(digest for digest, _ in blobs)
        return backend.packs.write_blobs(blobs) if blobs else 0

    def packed_locations(self, digests: Sequence[str]) -> dict[str, PackedBlob]:
        """Where the packed ones of ``digests`` are, for reading them in bulk."""
        backend = self._backend
        if not isinstance(backend, _LocalBackend):
            return {}
        return backend.packs.locate_many(list(digests))

    def compact(self, grace_seconds: float) -> CompactResult:
        """Reclaim the space of deleted packed blobs (local folder; elsewhere nothing to do)."""
        backend = self._backend
        if not isinstance(backend, _LocalBackend):
            return CompactResult()
        return compact_packs(backend.packs, grace_seconds)

    def close(self) -> None:
        """Close the pack index's connections (a local folder; reopened when needed)."""
        if isinstance(self._backend, _LocalBackend):
            self._backend.packs.close()

    def iter_blobs(self) -> Iterator[StoredBlob]:
        """Every stored blob (anything under ``blobs/`` not named by a digest is ignored)."""
        backend = self._backend
        if isinstance(backend, _LocalBackend):
            loose = _iter_local(os.path.join(backend.root, BLOBS_FOLDER), backend.legacy)
            packed = (
                StoredBlob(b.digest, b.size, b.added, packed=True)
                for b in backend.packs.iter_packed()
            )
            yield from _newest_of_each(heapq.merge(loose, packed))
            return
        assert isinstance(backend, _FsspecBackend)
        folder = f"{backend.root}/{BLOBS_FOLDER}"
        try:
            found = backend.fs.find(folder, detail=True)
        except FileNotFoundError:
            return
        for path, info in sorted(found.items()):
            digest = path.rsplit("/", 1)[-1]
            if is_digest(digest) and path.endswith(blob_key(digest)):
                yield StoredBlob(digest, int(info.get("size") or 0), _modified(info))

    def delete(self, digest: str) -> bool:
        """Remove a blob; False when it was not stored. Only ``shipyard gc`` should call this."""
        backend = self._backend
        validate_digest(digest)
        if isinstance(backend, _LocalBackend):
            return backend.delete(digest)
        assert isinstance(backend, _FsspecBackend)
        try:
            backend.fs.rm_file(backend._path(digest))
        except FileNotFoundError:
            return False
        return True


def _newest_of_each(blobs: Iterator[StoredBlob]) -> Iterator[StoredBlob]:
    """One entry per digest (a blob stored both loose and packed): the youngest copy,
    so that gc's grace period counts from the latest store of that content."""
    held: StoredBlob | None = None
    for blob in blobs:
        if held is not None and blob.digest == held.digest:
            if blob.modified > held.modified:
                held = blob
            continue
        if held is not None:
            yield held
        held = blob
    if held is not None:
        yield held


def _iter_local(folder: str, legacy: bool) -> Iterator[StoredBlob]:
    """Blobs in digest order per shard; a legacy store's second-level folders too."""
    try:
        shards = sorted(os.listdir(folder))
    except FileNotFoundError:
        return
    for shard in shards:
        if len(shard) != 2:
            continue
        found: list[tuple[str, os.DirEntry[str]]] = []
        _collect_shard(os.path.join(folder, shard), shard, legacy, found)
        found.sort(key=lambda item: item[0])
        for name, entry in found:
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            yield StoredBlob(name, st.st_size, st.st_mtime)


def _collect_shard(
    path: str, shard: str, legacy: bool, found: list[tuple[str, os.DirEntry[str]]]
) -> None:
    try:
        with os.scandir(path) as entries:
            listing = list(entries)
    except (NotADirectoryError, FileNotFoundError):
        return
    for entry in listing:
        name = entry.name
        if is_digest(name) and name[:2] == shard:
            found.append((name, entry))
        elif legacy and len(name) == 2 and entry.is_dir(follow_symlinks=False):
            for inner in _scan_names(entry.path):
                if is_digest(inner.name) and inner.name[:2] == shard and inner.name[2:4] == name:
                    found.append((inner.name, inner))


def _scan_names(path: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as entries:
            return list(entries)
    except (NotADirectoryError, FileNotFoundError):
        return []


def _modified(info: dict[str, Any]) -> float:
    """Seconds since the epoch from an fsspec listing entry (its key differs by backend).

    Unknown means now: a collector that spares young blobs then spares this one.
    """
    for key in ("mtime", "LastModified", "last_modified", "created", "updated"):
        value = info.get(key)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, dt.datetime):
            return value.timestamp()
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return time.time()
