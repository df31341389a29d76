"""``shipyard predict`` end to end: a logged, registered scikit-learn model scores a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from shipyard.cli.main import cli
from shipyard.serving.batch_predict import predict_file
from shipyard.tracking.client import Client


@pytest.fixture
def registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, LogisticRegression]:
    store = tmp_path / "store"
    monkeypatch.setenv("SHIPYARD_URI", str(store))
    X, y = load_digits(return_X_y=True)
    model = LogisticRegression(max_iter=3000).fit(X[:600], y[:600])
    with Client(str(store)) as client, client.start_run(experiment="digits") as run:
        run.log_model(model, input_example=X[:3], registered_model_name="digits")
    return "models:/digits/1", model


def test_the_cli_scores_parquet_into_csv(
    tmp_path: Path, registered: tuple[str, LogisticRegression]
) -> None:
    uri, model = registered
    X, _ = load_digits(return_X_y=True)
    frame = pd.DataFrame(X[:1200], columns=[f"p{i}" for i in range(64)])
    source, target = tmp_path / "pixels.parquet", tmp_path / "scored.csv"
    frame.to_parquet(source)

    done = CliRunner().invoke(
        cli, ["predict", uri, "-i", str(source), "-o", str(target), "--chunk-size", "500"]
    )

    assert done.exit_code == 0, done.output
    assert "Scored 1,200 rows" in done.output
    out = pd.read_csv(target)
    assert len(out) == 1200 and list(out.columns[-1:]) == ["prediction"]
    np.testing.assert_array_equal(out["prediction"], model.predict(X[:1200]))


def test_the_python_api_adds_probabilities(
    tmp_path: Path, registered: tuple[str, LogisticRegression]
) -> None:
    uri, model = registered
    X, _ = load_digits(return_X_y=True)
    source, target = tmp_path / "pixels.csv", tmp_path / "scored.parquet"
    pd.DataFrame(X[:50]).to_csv(source, index=False)
    result = predict_file(uri, source, target, proba=True, keep_inputs=False, chunk_size=16)
    assert (result.rows, result.chunks) == (50, 4)
    table = pq.read_table(target)
    assert table.column_names == ["prediction"] + [f"probability_{j}" for j in range(10)]
    proba = np.column_stack([table.column(f"probability_{j}").to_numpy() for j in range(10)])
    np.testing.assert_allclose(proba, model.predict_proba(X[:50]))


def test_cli_errors_are_one_line(
    tmp_path: Path, registered: tuple[str, LogisticRegression]
) -> None:
    uri, _ = registered
    source = tmp_path / "wrong.csv"
    source.write_text("a,b\n1,2\n")
    runner = CliRunner()
    done = runner.invoke(cli, ["predict", uri, "-i", str(source), "-o", str(tmp_path / "o.csv")])
    assert done.exit_code == 1
    [line] = done.output.strip().splitlines()
    assert line.startswith("Error: rows 0-0:")
    missing = runner.invoke(cli, ["predict", "models:/nope/1", "-i", str(source), "-o", "x.csv"])
    assert missing.exit_code == 1
    assert missing.output.startswith("Error: ") and len(missing.output.strip().splitlines()) == 1
    bad = runner.invoke(cli, ["predict", uri, "-i", str(source), "-o", str(tmp_path / "o.json")])
    assert bad.exit_code == 1 and ".parquet or .csv" in bad.output
