"""``shipyard models ...`` through click's runner and one real process, on SQLite and a live
server: registry listings, aliases, evaluation, the promotion gate's exit codes, lineage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from shipyard.cli.main import cli
from shipyard.store.hashing import hash_bytes
from tests.evaluation.conftest import Backend, Registered, _server, backend, digits, registered

__all__ = ["_server", "backend", "digits", "registered"]  # fixtures shared with tests/evaluation


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["models", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str) -> str:
    code, out, err = invoke(*args)
    assert code == 0, err or out
    return out


def fails(*args: str) -> str:
    code, out, err = invoke(*args)
    assert code == 1, out
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    return err


def test_registry_commands(backend: Backend, registered: Registered, tmp_path: Path) -> None:
    name = registered.name
    listed = {m["name"]: m for m in json.loads(ok("ls", "--json"))}
    assert listed[name]["latest_version"] == 3 and listed[name]["aliases"] == {}
    assert name in ok("ls", "--name-like", f"{name[:10]}%")
    versions = json.loads(ok("versions", name, "--json"))
    assert [(v["version"], v["flavor"]) for v in versions] == [
        (1, "sklearn"),
        (2, "sklearn"),
        (3, "sklearn"),
    ]
    assert versions[1]["uri"] == f"models:/{name}/2"

    assert "Alias staging" in ok("alias", name, "staging", "3", "--reason", "try it")
    assert "(was 3)" in ok("alias", name, "staging", "2")
    history = json.loads(ok("history", name, "--json"))
    assert [(e["from_version"], e["to_version"], e["reason"]) for e in history] == [
        (None, 3, "try it"),
        (3, 2, None),
    ]
    assert "try it" in ok("alias", name, "staging")
    assert "staging → 2" in ok("show", name)

    assert "staging" in fails("archive", f"{name}@staging")
    assert "name the version" in fails("archive", name)
    ok("archive", f"{name}/3")
    assert [v["version"] for v in json.loads(ok("versions", name, "--archived", "--json"))] == [3]
    assert "archived" in fails("alias", name, "staging", "3").lower()
    ok("unarchive", f"models:/{name}/3")
    assert "Removed alias staging" in ok("alias", name, "staging", "--delete")
    assert "has no alias" in fails("alias", name, "staging", "--delete")

    shown = json.loads(ok("show", f"{name}/2", "--json"))
    assert shown["version"] == 2 and shown["run_id"] == registered.run_id
    assert shown["evaluations"] == [] and shown["promotion_decisions"] == []

    out = ok("register", f"runs:/{registered.run_id}/good", name, "-d", "again", "-t", "k=v")
    assert f"models:/{name}/4" in out
    assert json.loads(ok("show", f"{name}/4", "--json"))["tags"] == {"k": "v"}

    dest = tmp_path / "pkg"
    assert "3 file(s)" in ok("download", f"{name}/2", str(dest))
    assert sorted(p.name for p in dest.iterdir()) == [
        "input_example.json",
        "model.skops",
        "shipyard-model.json",
    ]
    manifest = (dest / "shipyard-model.json").read_bytes()
    assert hash_bytes(manifest) == shown["package_digest"]
    files = json.loads(manifest)["files"]
    assert hash_bytes((dest / "model.skops").read_bytes()) == files["model.skops"]["digest"]

    assert "nope" in fails("show", "nope")
    assert "version number" in fails("show", f"{name}/x")
    assert "not registered" in fails("archive", f"runs:/{registered.run_id}/good")


def test_evaluate_promote_and_lineage(backend: Backend, registered: Registered) -> None:
    name, data = registered.name, registered.data
    gate = ("--data", data, "--target", "label")

    evaluated = json.loads(ok("evaluate", f"{name}/2", *gate, "--json"))
    assert evaluated["metrics"]["accuracy"] > 0.9 and evaluated["model_version"] == 2
    text = ok("evaluate", f"{name}/2", "-d", data, "-y", "label", "--no-plots")
    assert f"Evaluated models:/{name}/2 on datasets:/{name}-test/1" in text
    assert "f1_macro" in text and "Evaluation: " in text

    first = ok("promote", f"{name}/1", *gate, "--threshold", "accuracy=0.5")
    assert "PROMOTED" in first and "Incumbent: none" in first
    second = ok("promote", f"{name}/2", *gate, "--min-delta", "0.01", "-r", "weekly retrain")
    assert "PROMOTED" in second
    assert f"Candidate {name}/2: f1_macro" in second and f"Incumbent {name}/1: f1_macro" in second

    code, out, err = invoke("promote", f"{name}/3", *gate, "--alias", "production")
    assert code == 2, err
    assert "REFUSED" in out and "does not improve" in out
    assert f"Candidate {name}/3: f1_macro" in out and f"Incumbent {name}/2: f1_macro" in out
    code, out, _ = invoke("promote", f"{name}/3", *gate, "--json")
    decision = json.loads(out)
    assert code == 2 and decision["promoted"] is False and decision["incumbent_version"] == 2
    assert decision["candidate_evaluation"]["id"] == decision["candidate_evaluation_id"]

    assert "METRIC=BOUND" in fails("promote", f"{name}/3", *gate, "--threshold", "accuracy")
    assert "not a number" in fails("promote", f"{name}/3", *gate, "-t", "accuracy=high")
    assert "--data" in fails("promote", f"{name}/3", "--target", "label")  # a usage error: 1
    assert "unknown metric" in fails("promote", f"{name}/3", *gate, "--metric", "f2")

    lineage = ok("lineage", f"{name}@production")
    for expected in (
        f"Lineage of models:/{name}/2",
        f"datasets:/{name}-train/1",
        registered.run_id,
        "models=tree-6, logreg, tree-2",
        "scikit-learn",
        "weekly retrain",
        "promoted",
        "refused",
    ):
        assert expected in lineage, expected
    chain = json.loads(ok("lineage", f"models:/{name}@production", "--json"))
    assert chain["model_version"]["version"] == 2
    assert [d["uri"] for d in chain["datasets"]] == [f"datasets:/{name}-train/1"]
    assert chain["run"]["id"] == registered.run_id
    assert chain["run"]["params"] == {"models": "tree-6, logreg, tree-2"}
    assert "scikit-learn" in chain["environment"]["packages"]
    tags = chain["run"]["tags"]
    if "shipyard.git.commit" in tags:
        assert tags["shipyard.git.commit"][:12] in lineage
    moves = [(e["from_version"], e["to_version"]) for e in chain["alias_events"]]
    assert moves == [(None, 1), (1, 2)]
    assert chain["alias_events"][1]["reason"].startswith("promoted: ")
    assert {d["candidate_version"] for d in chain["promotion_decisions"]} == {2, 3}


def test_exit_codes_of_a_real_process(backend: Backend, registered: Registered) -> None:
    name, data = registered.name, registered.data

    def shipyard(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "SHIPYARD_URI": backend.uri}
        return subprocess.run(
            [sys.executable, "-m", "shipyard", "models", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    gate = ("--data", data, "--target", "label")
    promoted = shipyard("promote", f"{name}/2", *gate, "--reason", "first release")
    assert promoted.returncode == 0, promoted.stderr
    assert "PROMOTED" in promoted.stdout
    refused = shipyard("promote", f"{name}/3", *gate)
    assert refused.returncode == 2, refused.stderr
    assert "REFUSED" in refused.stdout and refused.stderr == ""
    broken = shipyard("promote", f"{name}/3", "--data", data)
    assert broken.returncode == 1 and broken.stderr.startswith("Error: ")
    assert "Traceback" not in broken.stderr
