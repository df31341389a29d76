"""Pack files of a local folder store: written whole, indexed last, read verified, compacted."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from shipyard.errors import DataCorruptionError, InvalidInputError, NotFoundError
from shipyard.store.artifacts import FsspecBlobStore
from shipyard.store.hashing import hash_bytes
from shipyard.store.pack_files import read_table, write_pack
from shipyard.store.packs import PackedSource
from tests.support.blobs import corrupt_blob


def _files(folder: Path, contents: list[bytes]) -> list[PackedSource]:
    folder.mkdir(parents=True, exist_ok=True)
    sources = []
    for index, data in enumerate(contents):
        path = folder / f"f{index:03d}.bin"
        path.write_bytes(data)
        sources.append(PackedSource(hash_bytes(data), str(path), len(data)))
    return sources


def _pack_files(root: Path) -> list[Path]:
    folder = root / "packs"
    return sorted(folder.glob("*.pack")) if folder.exists() else []


CONTENTS = [f"blob number {i} ".encode() * (i + 1) for i in range(20)]


def test_packed_blobs_read_like_loose_ones(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "store"))
    sources = _files(tmp_path / "src", CONTENTS)
    assert store.pack(sources) == 20
    (pack,) = _pack_files(tmp_path / "store")
    assert pack.stat().st_mode & 0o222 == 0
    table = read_table(str(pack))
    assert table is not None
    assert [(d, size) for d, _, size in table] == [(s.digest, s.size) for s in sources]
    assert table[-1][1] + table[-1][2] == sum(map(len, CONTENTS))  # the bytes, then the table
    for source, data in zip(sources, CONTENTS, strict=True):
        assert b"".join(store.open(source.digest)) == data
        assert store.exists(source.digest) and store.size(source.digest) == len(data)
        assert b"".join(store.open(source.digest, offset=3)) == data[3:]
    absent = hash_bytes(b"never stored")
    assert store.missing([s.digest for s in sources] + [absent]) == {absent}
    # Nothing was written as a loose file, and storing the same bytes again adds none.
    assert not (tmp_path / "store" / "blobs").exists()
    assert store.put(io.BytesIO(CONTENTS[0])) == (sources[0].digest, len(CONTENTS[0]))
    assert not (tmp_path / "store" / "blobs").exists()
    located = store.packed_locations([sources[1].digest, absent])
    assert list(located) == [sources[1].digest] and located[sources[1].digest].path == str(pack)


def test_listing_merges_loose_and_packed_blobs(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "store"))
    loose, _ = store.put(io.BytesIO(b"a loose blob"))
    store.put(io.BytesIO(CONTENTS[0]))  # stored both ways: listed once
    sources = _files(tmp_path / "src", CONTENTS[:5])
    store.pack(sources)
    listed = [blob.digest for blob in store.iter_blobs()]
    assert listed == sorted({loose, *(s.digest for s in sources)})


def test_a_file_changed_since_it_was_hashed_leaves_no_pack(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "store"))
    sources = _files(tmp_path / "src", CONTENTS[:5])
    Path(sources[3].path).write_bytes(b"changed behind our back")
    with pytest.raises(DataCorruptionError, match=sources[3].digest):
        store.pack(sources)
    assert _pack_files(tmp_path / "store") == []
    assert store.missing([s.digest for s in sources]) == {s.digest for s in sources}


def test_malformed_digests_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "store"))
    with pytest.raises(InvalidInputError, match="digest"):
        store.pack([PackedSource("../escape", str(tmp_path / "x"), 1)])
    assert not (tmp_path / "store").exists()


def test_a_corrupt_packed_blob_is_detected_not_served(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "store"))
    sources = _files(tmp_path / "src", CONTENTS[:3])
    store.pack(sources)
    corrupt_blob(tmp_path / "store", sources[1].digest)
    with pytest.raises(DataCorruptionError, match=sources[1].digest):
        b"".join(store.open(sources[1].digest))
    # Its neighbours in the same pack are intact.
    assert b"".join(store.open(sources[0].digest)) == CONTENTS[0]
    assert b"".join(store.open(sources[2].digest)) == CONTENTS[2]


def test_delete_then_compact_reclaims_the_space(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = FsspecBlobStore(str(root))
    first = _files(tmp_path / "a", CONTENTS[:10])
    second = _files(tmp_path / "b", CONTENTS[10:])
    store.pack(first)
    store.pack(second)
    packs = _pack_files(root)
    assert len(packs) == 2
    total = sum(p.stat().st_size for p in packs)
    # Every blob of the first pack goes; most of the second.
    for source in first + second[:8]:
        assert store.delete(source.digest)
    assert not store.delete(first[0].digest)
    with pytest.raises(NotFoundError):
        store.open(first[0].digest)
    # Young packs are spared (their writer may not have indexed them yet).
    assert store.compact(grace_seconds=3600).removed_packs == 0
    result = store.compact(grace_seconds=0)
    assert (result.removed_packs, result.rewritten_packs) == (1, 1)
    (rewritten,) = _pack_files(root)
    assert rewritten not in packs
    assert result.freed_bytes == total - rewritten.stat().st_size
    table = read_table(str(rewritten))
    assert table is not None and [d for d, _, _ in table] == [s.digest for s in second[8:]]
    for source, data in zip(second[8:], CONTENTS[18:], strict=True):
        assert b"".join(store.open(source.digest)) == data


def test_a_pack_nothing_indexes_is_removed_by_compact(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = FsspecBlobStore(str(root))
    store.pack(_files(tmp_path / "a", CONTENTS[:2]))
    orphan = root / "packs" / "0123456789abcdef0123456789abcdef.pack"
    orphan.write_bytes(b"what a writer left when it crashed before indexing")
    result = store.compact(grace_seconds=0)
    assert result.removed_packs == 1 and not orphan.exists()
    assert len(_pack_files(root)) == 1


def test_concurrent_writers_of_the_same_blobs(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "store"))
    sources = _files(tmp_path / "src", CONTENTS)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            FsspecBlobStore(str(tmp_path / "store")).pack(sources)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for source, data in zip(sources, CONTENTS, strict=True):
        assert b"".join(store.open(source.digest)) == data
    index = sqlite3.connect(tmp_path / "store" / "packs" / "index.sqlite")
    assert index.execute("SELECT COUNT(*) FROM packed").fetchone() == (20,)
    index.close()
    # The copies nobody indexed are reclaimed.
    assert store.compact(grace_seconds=0).removed_packs == 3


def test_packs_are_local_only(tmp_path: Path) -> None:
    store = FsspecBlobStore(f"memory://{tmp_path.name}-packs")
    assert not store.is_local
    assert store.packed_locations([hash_bytes(b"x")]) == {}
    with pytest.raises(InvalidInputError, match="local"):
        store.pack(_files(tmp_path / "src", CONTENTS[:1]))


def test_a_store_without_packs_creates_no_index(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "store"))
    digest, _ = store.put(io.BytesIO(b"loose only"))
    assert store.missing([digest]) == set()
    assert store.missing([hash_bytes(b"other")]) == {hash_bytes(b"other")}
    assert not os.path.exists(tmp_path / "store" / "packs")


def test_a_lost_index_is_rebuilt_from_the_packs_not_taken_for_garbage(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = FsspecBlobStore(str(root))
    sources = _files(tmp_path / "src", CONTENTS)
    store.pack(sources[:10])
    store.pack(sources[10:])
    store.close()
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (root / "packs" / name).unlink(missing_ok=True)
    store = FsspecBlobStore(str(root))
    assert store.missing([s.digest for s in sources]) == {s.digest for s in sources}
    result = store.compact(grace_seconds=0)
    assert (result.reindexed_packs, result.removed_packs) == (2, 0)
    for source, data in zip(sources, CONTENTS, strict=True):
        assert b"".join(store.open(source.digest)) == data


def test_a_pack_moved_in_but_never_indexed_is_indexed_by_compact(tmp_path: Path) -> None:
    """What a writer that died between moving its pack in and indexing it leaves."""
    root = tmp_path / "store"
    store = FsspecBlobStore(str(root))
    store.pack(_files(tmp_path / "a", CONTENTS[:2]))
    sources = _files(tmp_path / "b", CONTENTS[2:6])
    name = "f" * 32
    write_pack(
        str(root / "packs" / f"{name}.pack"),
        [(s.digest, CONTENTS[2 + i]) for i, s in enumerate(sources)],
    )
    assert store.missing([s.digest for s in sources]) == {s.digest for s in sources}
    assert store.compact(grace_seconds=0).reindexed_packs == 1
    assert store.missing([s.digest for s in sources]) == set()


def test_rows_whose_pack_file_is_gone_are_dropped_and_the_content_stored_again(
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    store = FsspecBlobStore(str(root))
    sources = _files(tmp_path / "src", CONTENTS[:4])
    store.pack(sources)
    (pack,) = _pack_files(root)
    pack.chmod(0o644)
    pack.unlink()  # a disk failure, or a hand that tidied up
    with pytest.raises(NotFoundError):
        store.open(sources[0].digest)
    # The next pack of the same content replaces the rows that point nowhere...
    assert store.pack(sources[:2]) == 2
    assert b"".join(store.open(sources[0].digest)) == CONTENTS[0]
    # ...and gc drops the rest, so that an add stores them again.
    assert store.compact(grace_seconds=0).dropped_rows == 2
    assert store.missing([s.digest for s in sources]) == {sources[2].digest, sources[3].digest}
    # Also when no pack file at all is left.
    for pack in _pack_files(root):
        pack.chmod(0o644)
        pack.unlink()
    assert store.compact(grace_seconds=0).dropped_rows == 2
    assert store.missing([s.digest for s in sources]) == {s.digest for s in sources}


def test_a_corrupt_blob_does_not_make_compact_rewrite_its_pack_forever(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = FsspecBlobStore(str(root))
    sources = _files(tmp_path / "src", CONTENTS[:10])
    store.pack(sources)
    for source in sources[2:]:
        store.delete(source.digest)
    corrupt_blob(root, sources[1].digest)
    first = store.compact(grace_seconds=0)
    assert first.corrupt == [sources[1].digest] and first.rewritten_packs == 0
    assert b"".join(store.open(sources[0].digest)) == CONTENTS[0]  # moved to a new pack
    packs = _pack_files(root)
    second = store.compact(grace_seconds=0)
    assert second.corrupt == [sources[1].digest]
    assert (second.rewritten_packs, second.freed_bytes) == (0, 0)
    assert _pack_files(root) == packs


def test_a_staging_pack_left_by_a_dead_writer_is_removed(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = FsspecBlobStore(str(root))
    store.pack(_files(tmp_path / "a", CONTENTS[:2]))
    leftover = root / "tmp" / "pack-0123.pack"
    leftover.write_bytes(b"half a pack")
    assert store.compact(grace_seconds=3600).freed_bytes == 0 and leftover.exists()
    store.compact(grace_seconds=0)
    assert not leftover.exists()


def test_threads_sharing_one_store_pack_and_read_at_once(tmp_path: Path) -> None:
    store = FsspecBlobStore(str(tmp_path / "store"))
    groups = [_files(tmp_path / f"src{i}", [c + bytes([i]) for c in CONTENTS]) for i in range(4)]
    errors: list[BaseException] = []

    def work(sources: list[PackedSource]) -> None:
        try:
            store.pack(sources)
            for source in sources:
                assert store.size(source.digest) == source.size
                assert len(b"".join(store.open(source.digest))) == source.size
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(group,)) for group in groups]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(store.iter_blobs())) == 80


_READ_BACK = """
import sys
from shipyard.store.artifacts import FsspecBlobStore
store = FsspecBlobStore(sys.argv[1])
print(b"".join(store.open(sys.argv[2])).decode(), len(store.missing([sys.argv[2]])))
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="mounting a folder read-only takes root and unshare",
)
def test_a_store_on_a_read_only_mount_reads_its_packs(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = FsspecBlobStore(str(root))
    sources = _files(tmp_path / "src", CONTENTS[:5])
    store.pack(sources)
    store.close()
    script = tmp_path / "read_back.py"
    script.write_text(_READ_BACK)
    mount_and_read = (
        f"mount --bind -o ro {root} {root} && {sys.executable} {script} {root} {sources[2].digest}"
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", mount_and_read],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [*CONTENTS[2].decode().split(), "0"]
