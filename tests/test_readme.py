"""The README's examples run as written, and every command it shows exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from shipyard.cli.main import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_the_python_quickstart_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.skops").write_bytes(b"a stand-in for a saved model")
    quickstart, reading = _blocks("python")[:2]
    namespace: dict[str, object] = {}
    exec(compile(quickstart + reading, "README.md", "exec"), namespace)
    best = namespace["best"]
    assert list(best["run_id"]) == [namespace["run"].id]  # type: ignore[index, attr-defined]
    assert len(namespace["history"]) == 10  # type: ignore[arg-type]


def _shown_commands() -> list[list[str]]:
    commands = []
    for block in _blocks("console"):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("shipyard "):
                words = shlex.split(line.replace("\\", ""))[1:]
                commands.append([w for w in words if not w.startswith("-")][:2])
    return commands


@pytest.mark.parametrize("words", _shown_commands(), ids=" ".join)
def test_every_command_shown_exists(words: list[str]) -> None:
    path: list[str] = []
    command: click.Command = cli
    for word in words:
        found = (
            command.get_command(click.Context(command), word)
            if isinstance(command, click.Group)
            else None
        )
        if found is None:
            break  # an argument, not a command
        command = found
        path.append(word)
    assert path, f"`shipyard {' '.join(words)}` names no command"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output


def test_the_models_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHIPYARD_URI", raising=False)
    (example,) = [block for block in _blocks("python") if "sy.models.promote" in block]
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert namespace["promotion"].promoted  # type: ignore[attr-defined]
    y = namespace["y"]
    assert list(namespace["labels"]) == list(y[:3])  # type: ignore[call-overload, index]
