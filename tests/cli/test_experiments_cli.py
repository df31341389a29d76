"""``shipyard experiments ...`` through click's runner on a real SQLite store."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from shipyard.cli.main import cli

pytestmark = pytest.mark.usefixtures("store_uri")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_create_list_rename_delete_restore() -> None:
    code, out, _ = invoke("experiments", "create", "mnist", "--tag", "team=vision")
    assert code == 0 and len(out.strip()) == 32
    experiment_id = out.strip()
    invoke("experiments", "create", "cifar")

    code, out, _ = invoke("experiments", "ls")
    assert code == 0
    assert "mnist" in out and "cifar" in out and "team=vision" in out

    code, out, _ = invoke("experiments", "ls", "--json")
    listed = json.loads(out)
    assert [e["name"] for e in listed] == ["cifar", "mnist"]
    assert listed[1] | {"tags": listed[1]["tags"]} == listed[1]
    assert listed[1]["id"] == experiment_id and listed[1]["tags"] == {"team": "vision"}

    code, out, _ = invoke("experiments", "rename", "mnist", "digits")
    assert code == 0 and "digits" in out
    code, out, _ = invoke("experiments", "delete", experiment_id)
    assert code == 0
    names = [e["name"] for e in json.loads(invoke("experiments", "ls", "--json")[1])]
    assert names == ["cifar"]
    deleted = json.loads(invoke("experiments", "ls", "--deleted", "--json")[1])
    assert [(e["name"], e["lifecycle_stage"]) for e in deleted] == [("digits", "deleted")]
    code, out, _ = invoke("experiments", "ls", "--all")
    assert "deleted" in out and "digits" in out

    assert invoke("experiments", "restore", "digits")[0] == 0
    names = [e["name"] for e in json.loads(invoke("experiments", "ls", "--json")[1])]
    assert names == ["cifar", "digits"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("experiments", "create", "dup"), "dup"),
        (("experiments", "rename", "missing", "x"), "missing"),
        (("experiments", "delete", "missing"), "missing"),
        (("experiments", "create", "x", "--tag", "novalue"), "KEY=VALUE"),
        (("experiments", "ls", "--all", "--deleted"), "exclude"),
    ],
)
def test_user_errors_are_one_line_and_exit_1(args: tuple[str, ...], message: str) -> None:
    invoke("experiments", "create", "dup")
    code, out, err = invoke(*args)
    assert code == 1
    assert err.startswith("Error: ") and err.count("\n") == 1 and message in err
    assert "Traceback" not in out + err
