"""The manifest format: canonical bytes, a stable digest, and paths refused on the way in."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipyard.data.manifest import FORMAT, Manifest, ManifestEntry
from shipyard.errors import DataCorruptionError, InvalidInputError
from shipyard.store.hashing import hash_bytes

D1 = "a" * 64
D2 = "b" * 64


def _document(*entries: dict[str, object]) -> bytes:
    return json.dumps({"format": FORMAT, "files": list(entries)}).encode()


def test_canonical_bytes_are_sorted_compact_json_and_name_the_digest() -> None:
    manifest = Manifest([ManifestEntry('b/ü "q".txt', 3, D2, True), ManifestEntry("a.csv", 1, D1)])
    expected = json.dumps(
        {"files": [e.to_json() for e in manifest], "format": FORMAT},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    assert manifest.data == expected
    assert [e.path for e in manifest] == ["a.csv", 'b/ü "q".txt']
    assert manifest.digest == hash_bytes(expected)
    assert Manifest.from_bytes(manifest.data) == manifest
    assert manifest.total_size == 4 and manifest.digests() == {D1, D2}


paths = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20
).filter(lambda s: "/" not in s and "\\" not in s and "%" not in s and s not in (".", ".."))


@given(st.lists(paths, min_size=1, max_size=8, unique=True))
def test_any_valid_manifest_round_trips(names: list[str]) -> None:
    try:
        entries = [ManifestEntry(f"dir/{n}", i, D1, i % 2 == 0) for i, n in enumerate(names)]
        manifest = Manifest(entries)
    except InvalidInputError:
        return  # a name validation refuses (drive letters, ...)
    again = Manifest.from_bytes(manifest.data)
    assert again == manifest and again.digest == manifest.digest


@pytest.mark.parametrize(
    "path",
    ["../evil", "a/../../evil", "/etc/passwd", "a\\..\\evil", "C:/evil", "%2e%2e/evil", "a//b", ""],
)
def test_reading_a_manifest_with_an_escaping_path_is_refused(path: str) -> None:
    data = _document({"path": path, "size": 1, "digest": D1, "executable": False})
    with pytest.raises(DataCorruptionError, match="manifest refused"):
        Manifest.from_bytes(data)


@pytest.mark.parametrize(
    "entries",
    [
        [{"path": "a", "size": 1, "digest": D1}, {"path": "a", "size": 1, "digest": D2}],
        [{"path": "a", "size": 1, "digest": D1}, {"path": "a/b", "size": 1, "digest": D2}],
        [{"path": "a", "size": -1, "digest": D1}],
        [{"path": "a", "size": 1, "digest": "not-a-digest"}],
        [{"path": "a", "size": True, "digest": D1}],
        [{"path": 3, "size": 1, "digest": D1}],
        ["a"],
    ],
)
def test_malformed_entries_are_refused(entries: list[object]) -> None:
    with pytest.raises(DataCorruptionError):
        Manifest.from_bytes(json.dumps({"format": FORMAT, "files": entries}).encode())


@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"format":"other","files":[]}', b"\xff"])
def test_documents_that_are_not_manifests_are_refused(data: bytes) -> None:
    with pytest.raises(DataCorruptionError):
        Manifest.from_bytes(data)
