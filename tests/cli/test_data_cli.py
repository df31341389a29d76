"""``shipyard data ...`` and ``shipyard gc`` through click's runner, on SQLite and a live server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import shipyard as sy
from shipyard.cli.main import cli
from shipyard.store.hashing import hash_bytes
from tests.data.conftest import Backend, _server, age, backend, make_tree, name

__all__ = ["_server", "backend", "name"]  # fixtures shared with tests/data


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str) -> str:
    code, out, err = invoke(*args)
    assert code == 0, err or out
    return out


def test_add_ls_show_tag_rm_restore(backend: Backend, name: str, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", {"t.csv": "a,b\n1,2\n", "img/0.png": b"\x89PNG"})
    (root / "outside").symlink_to(tmp_path)
    code, out, err = invoke("data", "add", str(root), "--name", name, "-m", "first", "--tag", "v1")
    assert code == 0, err
    assert f"Added datasets:/{name}/1: 2 file(s)" in out
    assert "uploaded 2 new blob(s)" in out
    assert "Skipped 1 file(s)" in err and "outside (symlink leaves the folder" in err

    code, out, err = invoke("data", "add", str(root), "--name", name, "--strict")
    assert code == 1 and "refusing to add" in err and "Traceback" not in err

    (root / "outside").unlink()
    out = ok("data", "add", str(root), "--name", name, "--quiet")
    assert out.startswith(f"Unchanged: datasets:/{name}/1 already holds this content")

    (root / "t.csv").write_text("a,b\n1,2\n3,4\n")
    age(root / "t.csv")
    assert "uploaded 1 new blob(s)" in ok("data", "add", str(root), "-n", name, "-m", "more rows")

    listed = json.loads(ok("data", "ls", "--json"))
    assert {d["name"]: d["latest_version"] for d in listed}[name] == 2
    assert name in ok("data", "ls")
    versions = json.loads(ok("data", "ls", name, "--json"))
    assert [(v["version"], v["tags"]) for v in versions] == [(1, ["v1"]), (2, [])]
    assert "more rows" in ok("data", "ls", name)

    shown = json.loads(ok("data", "show", f"{name}@v1", "--json"))
    assert shown["version"] == 1 and shown["message"] == "first" and shown["runs"] == []
    assert [f["path"] for f in shown["files"]] == ["img/0.png", "t.csv"]
    text = ok("data", "show", name, "--files", "1")
    assert f"datasets:/{name}/2" in text and "Parent" in text and "first 1" in text

    assert "Tagged" in ok("data", "tag", f"{name}@2", "golden")
    assert json.loads(ok("data", "show", f"datasets:/{name}@golden", "--json"))["version"] == 2
    ok("data", "untag", name, "golden")
    code, _, err = invoke("data", "show", f"{name}@golden")
    assert code == 1 and "golden" in err

    code, _, err = invoke("data", "rm", name)
    assert code == 1 and "NAME@VERSION" in err
    ok("data", "rm", f"{name}@2")
    assert json.loads(ok("data", "show", name, "--json"))["version"] == 1
    code, _, err = invoke("data", "get", f"{name}@2", str(tmp_path / "x"))
    assert code == 1 and "deleted" in err
    ok("data", "restore", f"{name}@2")
    assert json.loads(ok("data", "show", name, "--json"))["version"] == 2


def test_get_and_diff(backend: Backend, name: str, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", {"t.csv": "a,b\n1,x\n", "gone.txt": "bye"})
    ok("data", "add", str(root), "-n", name)
    (root / "gone.txt").unlink()
    (root / "t.csv").write_text("a,b,c\n1,x,2\n3,y,4\n")
    (root / "new.txt").write_text("hi")
    age(root)
    ok("data", "add", str(root), "-n", name)

    out = ok("data", "get", f"{name}@1", str(tmp_path / "out"))
    assert "2 file(s) written" in out
    assert (tmp_path / "out" / "gone.txt").read_text() == "bye"
    assert "2 already in place" in ok("data", "get", f"{name}@1", str(tmp_path / "out"))

    change = json.loads(ok("data", "diff", f"{name}@1", f"{name}@2", "--json"))
    assert [e["path"] for e in change["added"]] == ["new.txt"]
    assert [e["path"] for e in change["removed"]] == ["gone.txt"]
    assert [e["path"] for e in change["modified"]] == ["t.csv"]
    assert change["tables"][0]["rows_before"] == 1 and change["tables"][0]["rows_after"] == 2
    assert change["tables"][0]["columns_added"] == {"c": "int64"}
    text = ok("data", "diff", f"{name}@1", f"datasets:/{name}/2")
    assert "1 added, 1 removed, 1 modified" in text and "+ column c (int64)" in text
    assert "No differences" in ok("data", "diff", f"{name}@2", name)


def test_lineage_shows_in_runs_show_and_data_show(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    ok("data", "add", str(make_tree(tmp_path / "src", {"a": "1"})), "-n", name)
    with sy.start_run(experiment="cli-lineage", capture=False) as run:
        sy.data.get(f"datasets:/{name}/1", tmp_path / "out")
    assert run.id in json.loads(ok("data", "show", f"{name}@1", "--json"))["runs"]
    assert run.id[:8] in ok("data", "show", f"{name}@1")
    assert json.loads(ok("runs", "show", run.id, "--json"))["inputs"] == [f"datasets:/{name}/1"]
    assert f"datasets:/{name}/1" in ok("runs", "show", run.id)


def test_a_corrupt_blob_fails_get_with_one_line(
    backend: Backend, name: str, tmp_path: Path
) -> None:
    content = b"will rot" * 300_000
    ok("data", "add", str(make_tree(tmp_path / "src", {"rot.bin": content})), "-n", name)
    backend.corrupt(hash_bytes(content))
    code, _, err = invoke("data", "get", name, str(tmp_path / "out"))
    assert code == 1 and "corrupt" in err and "rot.bin" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "rot.bin").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("data", "show", "no-such-dataset"),
        ("data", "show", "bad/name"),
        ("data", "get", "datasets:/x/0", "out"),
        ("data", "add", "does-not-exist", "-n", "x"),
        ("data", "tag", "x@1", "123"),
    ],
)
def test_user_errors_are_one_line(backend: Backend, args: tuple[str, ...]) -> None:
    code, _, err = invoke(*args)
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1


def test_gc(backend: Backend, name: str, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", {"a": "first"})
    ok("data", "add", str(root), "-n", name)
    (root / "a").write_text("second")
    age(root)
    ok("data", "add", str(root), "-n", name)
    ok("data", "rm", f"{name}@1")
    if backend.kind == "rest":
        code, _, err = invoke("gc", "--dry-run")
        assert code == 1 and "run `shipyard gc` on the server host" in err
        return
    assert "Would remove 0 of" in ok("gc", "--dry-run")  # everything is younger than 1 hour
    plan = json.loads(ok("gc", "--dry-run", "--grace", "0", "--json"))
    assert hash_bytes(b"first") in plan["removed"] and len(plan["removed"]) == 2
    assert "Removed 2 of" in ok("gc", "--grace", "0")
    assert json.loads(ok("gc", "--grace", "0", "--json"))["removed"] == []
    code, _, err = invoke("data", "restore", f"{name}@1")
    assert code == 1 and "removed by `shipyard gc`" in err
    ok("data", "get", name, str(tmp_path / "out"))
    assert (tmp_path / "out" / "a").read_text() == "second"


def test_gc_reports_pack_files(backend: Backend, name: str, tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src", {f"f{i:03d}": f"packed {i}" for i in range(80)})
    ok("data", "add", str(root), "-n", name)
    ok("data", "rm", f"{name}@1")
    if backend.kind == "rest":  # packs are the server's: gc runs on its host
        code, _, err = invoke("gc", "--dry-run", "--grace", "0")
        assert code == 1 and "run `shipyard gc` on the server host" in err
        return
    plan = ok("gc", "--dry-run", "--grace", "0")
    assert "Would remove 81 of" in plan and "80 of them are in pack files" in plan
    done = json.loads(ok("gc", "--grace", "0", "--json"))
    assert len(done["removed"]) == 81 and done["packs_removed"] >= 1
    assert done["freed_bytes"] >= done["pack_bytes_freed"] > 0
    assert done["corrupt"] == [] and done["errors"] == []
