"""Walking and hashing a folder: what is taken, what is reported, what the stat cache saves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.data.scan import scan
from shipyard.data.statcache import StatCache
from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.store.hashing import hash_bytes
from tests.data.conftest import age, make_tree


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[StatCache]:
    with StatCache(tmp_path / "cache.sqlite") as stat_cache:
        yield stat_cache


def test_a_folder_becomes_sorted_entries_with_digests_and_exec_bits(
    tmp_path: Path, cache: StatCache
) -> None:
    root = make_tree(tmp_path / "d", {"b/x.bin": b"\x00" * 5, "a.txt": "hi", "run.sh": "#!"})
    (root / "run.sh").chmod(0o755)
    found = scan(root, cache=cache)
    assert [(e.path, e.size, e.executable) for e in found.manifest] == [
        ("a.txt", 2, False),
        ("b/x.bin", 5, False),
        ("run.sh", 2, True),
    ]
    assert found.manifest.by_path["a.txt"].digest == hash_bytes(b"hi")
    assert found.sources["b/x.bin"] == str(root / "b" / "x.bin")
    assert not found.skipped


def test_a_single_file_is_stored_under_its_name(tmp_path: Path, cache: StatCache) -> None:
    path = tmp_path / "iris.csv"
    path.write_text("a,b\n1,2\n")
    found = scan(path, cache=cache)
    assert [e.path for e in found.manifest] == ["iris.csv"]


def test_a_missing_path_is_not_found(tmp_path: Path, cache: StatCache) -> None:
    with pytest.raises(NotFoundError):
        scan(tmp_path / "nope", cache=cache)


def test_escaping_symlinks_and_special_files_are_reported_and_skipped(
    tmp_path: Path, cache: StatCache
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    root = make_tree(tmp_path / "d", {"data.txt": "ok", "sub/inner.txt": "inner"})
    (root / "escape").symlink_to(outside)
    (root / "escape_dir").symlink_to(tmp_path)
    (root / "broken").symlink_to(root / "gone")
    (root / "link_in").symlink_to(root / "sub" / "inner.txt")
    (root / "link_dir").symlink_to(root / "sub")
    os.mkfifo(root / "pipe")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "sock"))
        found = scan(root, cache=cache)
        reasons = {item.path: item.reason for item in found.skipped}
        with pytest.raises(InvalidInputError, match="refusing to add: 6 file"):
            scan(root, cache=cache, strict=True)
    assert [e.path for e in found.manifest] == ["data.txt", "link_in", "sub/inner.txt"]
    assert found.manifest.by_path["link_in"].digest == hash_bytes(b"inner")
    assert reasons["escape"].startswith("symlink leaves the folder")
    assert reasons["escape_dir"].startswith("symlink leaves the folder")
    assert reasons["broken"] == "broken symlink"
    assert reasons["link_dir"] == "symlink to a folder"
    assert reasons["pipe"] == "FIFO"
    assert reasons["sock"] == "socket"


def test_names_that_cannot_be_manifest_paths_are_skipped(tmp_path: Path, cache: StatCache) -> None:
    root = make_tree(tmp_path / "d", {"ok.txt": "1", "back\\slash.txt": "2", "100%.txt": "3"})
    found = scan(root, cache=cache)
    assert [e.path for e in found.manifest] == ["ok.txt"]
    assert {s.path for s in found.skipped} == {"back\\slash.txt", "100%.txt"}


_SCAN_AND_REPORT = """
import json, sys
from shipyard.data.scan import scan
from shipyard.data.statcache import StatCache
with StatCache(sys.argv[2]) as cache:
    found = scan(sys.argv[1], cache=cache)
print(json.dumps({
    "manifest": [e.path for e in found.manifest],
    "skipped": [[s.path, s.reason] for s in found.skipped],
}))
"""


def test_unreadable_files_are_reported(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"ok.txt": "1", "locked.txt": "2"})
    (root / "locked.txt").chmod(0)
    # Root reads every file; without the capabilities that let it, it reads like anyone.
    prefix = (
        ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    )
    command = [*prefix, sys.executable, "-c", _SCAN_AND_REPORT, str(root), str(tmp_path / "c")]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    found = json.loads(result.stdout)
    assert found["manifest"] == ["ok.txt"]
    assert found["skipped"][0][0] == "locked.txt"
    assert found["skipped"][0][1].startswith("unreadable")


def test_the_stat_cache_skips_unchanged_files_and_notices_changes(
    tmp_path: Path, cache: StatCache
) -> None:
    root = make_tree(tmp_path / "d", {f"f{i}.txt": f"content {i}" for i in range(20)})
    first = scan(root, cache=cache)
    assert (first.hashed, first.cached) == (20, 0)
    again = scan(root, cache=cache)
    assert (again.hashed, again.cached) == (0, 20)
    assert again.manifest == first.manifest
    (root / "f3.txt").write_text("changed, same cache key otherwise")
    (root / "f4.txt").unlink()
    age(root / "f3.txt")
    changed = scan(root, cache=cache)
    assert (changed.hashed, changed.cached) == (1, 18)
    assert changed.manifest.by_path["f3.txt"].digest == hash_bytes(
        b"changed, same cache key otherwise"
    )
    assert f"{root}/f4.txt" not in cache.load(str(root))


def test_files_modified_just_now_are_not_cached(tmp_path: Path, cache: StatCache) -> None:
    root = tmp_path / "d"
    root.mkdir()
    (root / "fresh.txt").write_text("a write in the same clock tick could go unseen")
    scan(root, cache=cache)
    assert scan(root, cache=cache).hashed == 1


def test_without_the_cache_every_file_is_hashed(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "d", {"a": "1", "b": "2"})
    scan(root)
    assert scan(root, use_cache=False).hashed == 2
    assert scan(root).cached == 2  # the default cache under SHIPYARD_HOME
