"""Artifacts: uploaded once by content, listed, downloaded and verified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import shipyard as sy
from shipyard.errors import DataCorruptionError, InvalidInputError, NotFoundError

pytestmark = pytest.mark.usefixtures("store_uri")


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "weights").mkdir(parents=True)
    (folder / "config.json").write_text('{"layers": 3}')
    (folder / "weights" / "w.bin").write_bytes(bytes(range(256)) * 100)
    return folder


def test_files_folders_text_and_dicts_round_trip(tmp_path: Path, model_folder: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("all good\n")
    with sy.start_run(capture=False) as run:
        entry = run.log_artifact(report)
        run.log_artifact(report, name="reports/final.txt")
        run.log_artifacts(model_folder, prefix="model")
        run.log_text("hello", "notes/hello.txt")
        run.log_dict({"b": 1, "a": [1, 2]}, "meta.json")
    assert entry.path == "report.txt" and entry.size == 9
    stored = sy.get_run(run.id)
    assert [e.path for e in stored.artifacts] == [
        "meta.json",
        "model/config.json",
        "model/weights/w.bin",
        "notes/hello.txt",
        "report.txt",
        "reports/final.txt",
    ]
    assert stored.read_text("notes/hello.txt") == "hello"
    assert json.loads(stored.read_bytes("meta.json")) == {"a": [1, 2], "b": 1}
    assert stored.read_bytes("model/weights/w.bin") == bytes(range(256)) * 100

    everything = sy.download_artifacts(run.id, dest=tmp_path / "all")
    assert everything == tmp_path / "all"
    assert (everything / "model" / "weights" / "w.bin").read_bytes() == bytes(range(256)) * 100
    assert (everything / "reports" / "final.txt").read_text() == "all good\n"

    folder = sy.download_artifacts(run.id, "model", dest=tmp_path / "one")
    assert folder == tmp_path / "one" / "model"
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == ["config.json", "w.bin"]
    assert not (tmp_path / "one" / "report.txt").exists()

    single = sy.download_artifacts(run.id[:8], "model/config.json", dest=tmp_path / "f")
    assert single.read_text() == '{"layers": 3}'


def test_identical_content_is_stored_once(tmp_path: Path) -> None:
    client = sy.Client()
    data = tmp_path / "same.bin"
    data.write_bytes(b"x" * 10_000)
    with sy.start_run(capture=False) as first:
        a = first.log_artifact(data, name="a.bin")
    with sy.start_run(capture=False) as second:
        b = second.log_artifact(data, name="b.bin")
    assert a.digest == b.digest
    assert client.blob_store.missing([a.digest]) == set()
    blob_files = [p for p in Path(client.settings.artifacts_uri or "").rglob("*") if p.is_file()]
    assert sum(1 for p in blob_files if p.stat().st_size == 10_000) == 1


def test_a_corrupted_blob_fails_the_download(tmp_path: Path) -> None:
    client = sy.Client()
    with sy.start_run(capture=False) as run:
        entry = run.log_text("precious bytes", "data.txt")
    blob_root = Path(client.settings.artifacts_uri or "")
    (blob_file,) = [p for p in blob_root.rglob("*") if p.is_file() and entry.digest in p.name]
    blob_file.write_bytes(b"tampered bytes")
    with pytest.raises(DataCorruptionError):
        sy.download_artifacts(run.id, "data.txt", dest=tmp_path / "out")
    assert not (tmp_path / "out" / "data.txt").exists()


@pytest.mark.parametrize("name", ["../escape.txt", "/abs.txt", "a\\b.txt", "a/%2e%2e/b", "C:x"])
def test_paths_that_could_escape_are_refused(tmp_path: Path, name: str) -> None:
    local = tmp_path / "f.txt"
    local.write_text("x")
    with sy.start_run(capture=False) as run, pytest.raises(InvalidInputError):
        run.log_artifact(local, name=name)


def test_missing_files_and_paths_are_clear_errors(tmp_path: Path) -> None:
    with sy.start_run(capture=False) as run:
        with pytest.raises(InvalidInputError, match="not a file"):
            run.log_artifact(tmp_path / "nope.txt")
        with pytest.raises(InvalidInputError, match="not a folder"):
            run.log_artifacts(tmp_path / "nope")
    with pytest.raises(NotFoundError):
        sy.download_artifacts(run.id, "nothing/here", dest=tmp_path / "x")


def test_a_download_never_writes_outside_its_folder(tmp_path: Path) -> None:
    """Through a symbolic link already in the folder, or a path forged in the database."""
    import sqlite3

    import sqlalchemy as sa

    client = sy.Client()
    with sy.start_run(capture=False) as run:
        run.log_text("x", "sub/x.txt")
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidInputError, match="outside"):
        sy.download_artifacts(run.id, dest=dest)
    assert list(outside.iterdir()) == []

    database = sa.make_url(client.settings.uri).database
    with sqlite3.connect(str(database)) as conn:
        conn.execute("UPDATE artifacts SET path = '../evil.txt' WHERE run_id = ?", (run.id,))
    with pytest.raises(InvalidInputError, match="evil"):
        sy.download_artifacts(run.id, dest=tmp_path / "clean")
    assert not (tmp_path / "evil.txt").exists()
