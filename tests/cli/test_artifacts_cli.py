"""``shipyard artifacts ls|get`` through click's runner on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import shipyard as sy
from shipyard.cli.main import cli

pytestmark = pytest.mark.usefixtures("store_uri")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def run_id() -> str:
    with sy.start_run(capture=False) as run:
        run.log_text("a" * 3000, "model/weights.txt")
        run.log_text("{}", "model/config.json")
        run.log_text("hi", "readme.md")
    return run.id


def test_ls_lists_all_or_below_a_path(run_id: str) -> None:
    code, out, _ = invoke("artifacts", "ls", run_id[:8])
    assert code == 0
    assert "model/weights.txt" in out and "2.9 KiB" in out and "readme.md" in out
    code, out, _ = invoke("artifacts", "ls", run_id, "model", "--json")
    listed = json.loads(out)
    assert [a["path"] for a in listed] == ["model/config.json", "model/weights.txt"]
    assert listed[1]["size"] == 3000 and len(listed[1]["digest"]) == 64


def test_get_downloads_verified_files(run_id: str, tmp_path: Path) -> None:
    code, out, _ = invoke("artifacts", "get", run_id[:8], "model", "--dest", str(tmp_path))
    assert code == 0 and "2 file(s)" in out
    assert (tmp_path / "model" / "weights.txt").read_text() == "a" * 3000
    assert not (tmp_path / "readme.md").exists()
    code, _, _ = invoke("artifacts", "get", run_id, "--dest", str(tmp_path / "all"))
    assert code == 0 and (tmp_path / "all" / "readme.md").read_text() == "hi"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("artifacts", "ls", "RUN", "nothing"), "nothing"),
        (("artifacts", "get", "RUN", "../etc/passwd"), ".."),
        (("artifacts", "ls", "0123456789abcdef0123456789abcdef"), "0123456789abcdef"),
    ],
)
def test_user_errors_are_one_line(run_id: str, args: tuple[str, ...], message: str) -> None:
    code, _, err = invoke(*(run_id if a == "RUN" else a for a in args))
    assert code == 1
    assert err.startswith("Error: ") and err.count("\n") == 1 and message in err
