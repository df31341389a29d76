"""Mistakes on the command line end with one ``Error: ...`` line and exit 1, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import shipyard as sy
from shipyard.cli.main import cli

pytestmark = pytest.mark.usefixtures("store_uri")


def _fails_cleanly(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    return result.stderr


def test_a_number_beyond_64_bits_in_a_filter(tmp_path: Path) -> None:
    message = _fails_cleanly("runs", "ls", "-f", "attributes.start_time > 99999999999999999999999")
    assert "64-bit" in message


def test_a_download_folder_that_cannot_be_made(tmp_path: Path) -> None:
    with sy.start_run(capture=False) as run:
        run.log_text("x", "a.txt")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    _fails_cleanly("artifacts", "get", run.id, "-d", str(blocker / "sub"))


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--store", "mysql://x/y", "unknown store URL scheme"),
        ("--artifacts", "foo://bar", "Protocol not known"),
        ("--store", "{blocker}/store", "Error: "),
    ],
)
def test_server_options_that_cannot_work(
    tmp_path: Path, option: str, value: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    args = ["server", "--port", "0", option, value.format(blocker=blocker)]
    if option == "--artifacts":
        args += ["--store", str(tmp_path / "store")]
    assert expected in _fails_cleanly(*args)
    assert not (tmp_path / "mysql:").exists()
