"""``shipyard runs ...`` through click's runner on a real SQLite store."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

import shipyard as sy
from shipyard.cli.main import cli

pytestmark = pytest.mark.usefixtures("store_uri")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def runs() -> dict[str, str]:
    ids = {}
    for name, model, acc in (("svm-1", "svm", 0.91), ("forest-1", "forest", 0.97)):
        with sy.start_run(name=name, experiment="mnist") as run:
            run.log_params({"model": model, "seed": 7})
            run.log_metric("acc", acc)
            run.log_metric("loss", math.nan)
            run.set_tag("team", "vision")
            run.log_text("weights", "model/weights.txt")
        ids[name] = run.id
    with sy.start_run(name="other-1", experiment="other", capture=False) as run:
        run.log_metric("acc", 0.5)
    ids["other-1"] = run.id
    return ids


def test_ls_shows_runs_with_metric_and_differing_param_columns(runs: dict[str, str]) -> None:
    code, out, _ = invoke("runs", "ls", "--experiment", "mnist")
    assert code == 0
    lines = out.splitlines()
    header = lines[0].split()
    assert header[:5] == ["ID", "NAME", "STATUS", "START", "DURATION"]
    assert "metrics.acc" in header and "params.model" in header
    assert "params.seed" not in header  # the same in every run: no column
    assert lines[1].split()[:3] == [runs["forest-1"][:8], "forest-1", "FINISHED"]
    assert "0.97" in lines[1] and "nan" in lines[1]
    code, out, _ = invoke("runs", "ls")
    assert "EXPERIMENT" in out and "other-1" in out


def test_ls_filter_order_limit_columns_and_json(runs: dict[str, str]) -> None:
    code, out, _ = invoke(
        "runs", "ls", "-e", "mnist", "-e", "other", "--order-by", "metrics.acc ASC", "--json"
    )
    listed = json.loads(out)
    assert [r["name"] for r in listed] == ["other-1", "svm-1", "forest-1"]
    assert listed[1]["metrics"]["loss"]["value"] == "NaN"
    assert listed[1]["params"] == {"model": "svm", "seed": "7"}

    code, out, _ = invoke("runs", "ls", "--filter", "params.model = 'svm'", "--json")
    assert [r["id"] for r in json.loads(out)] == [runs["svm-1"]]
    code, out, _ = invoke("runs", "ls", "--limit", "1", "--json")
    assert [r["name"] for r in json.loads(out)] == ["other-1"]
    code, out, _ = invoke("runs", "ls", "-e", "mnist", "--columns", "tags.team,params.seed")
    assert code == 0 and "tags.team" in out and "vision" in out and "params.seed" in out
    assert "metrics.acc" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("runs", "ls", "--filter", "metrics.acc >"), "position 13"),
        (("runs", "ls", "--filter", "metrics.acc > 'x'"), "position"),
        (("runs", "ls", "--experiment", "nope"), "nope"),
        (("runs", "ls", "--limit", "0"), "limit"),
        (("runs", "ls", "--columns", "acc"), "metrics."),
        (("runs", "ls", "--order-by", "metrics.acc SIDEWAYS"), "position"),
        (("runs", "show", "abc"), "at least 6"),
        (("runs", "show", "ffffffffff"), "no run"),
        (("runs", "compare", "0" * 32, "1" * 32), "0000"),
    ],
)
def test_user_errors_are_one_line(
    runs: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = invoke(*args)
    assert code == 1, out
    assert err.startswith("Error: ") and err.count("\n") == 1
    assert message in err


def test_show_gives_the_whole_story_of_a_run(runs: dict[str, str]) -> None:
    run_id = runs["svm-1"]
    code, out, _ = invoke("runs", "show", run_id[:7])
    assert code == 0
    for expected in (
        run_id,
        "mnist",
        "FINISHED",
        "Python",
        "Params",
        "model",
        "svm",
        "acc",
        "0.91",
        "team",
        "vision",
        "model/weights.txt",
        "environment/requirements.txt",
    ):
        assert expected in out, expected
    code, out, _ = invoke("runs", "show", run_id, "--json")
    data = json.loads(out)
    assert data["id"] == run_id and data["experiment_name"] == "mnist"
    assert data["metrics"]["loss"]["value"] == "NaN"
    assert "model/weights.txt" in {a["path"] for a in data["artifacts"]}
    assert data["tags"]["shipyard.python.version"]


def test_compare_marks_params_that_differ(runs: dict[str, str]) -> None:
    a, b = runs["svm-1"], runs["forest-1"]
    code, out, _ = invoke("runs", "compare", a[:8], b[:8])
    assert code == 0
    model_line = next(line for line in out.splitlines() if "params.model" in line)
    assert model_line.lstrip().startswith("*") and "svm" in model_line and "forest" in model_line
    seed_line = next(line for line in out.splitlines() if "params.seed" in line)
    assert not seed_line.lstrip().startswith("*")
    assert "1 param(s) differ" in out
    code, out, _ = invoke("runs", "compare", a, b, "--json")
    data = json.loads(out)
    assert [r["id"] for r in data["runs"]] == [a, b]
    assert data["differing_params"] == ["model"]
    assert data["metrics"]["acc"] == [0.91, 0.97]
    assert data["metrics"]["loss"] == ["NaN", "NaN"]


def test_delete_and_restore_by_prefix(runs: dict[str, str]) -> None:
    run_id = runs["svm-1"]
    code, out, _ = invoke("runs", "delete", run_id[:8])
    assert code == 0 and run_id in out
    listed = json.loads(invoke("runs", "ls", "--json")[1])
    assert run_id not in {r["id"] for r in listed}
    deleted = json.loads(invoke("runs", "ls", "--deleted", "--json")[1])
    assert [r["id"] for r in deleted] == [run_id]
    assert "deleted" in invoke("runs", "ls", "--all")[1]
    assert invoke("runs", "restore", run_id[:8])[0] == 0
    assert run_id in {r["id"] for r in json.loads(invoke("runs", "ls", "--json")[1])}
