"""``shipyard serve`` refuses what it cannot serve with one line, and checks environments."""

from __future__ import annotations

import gc
import logging

import httpx
import pytest
from click.testing import CliRunner

from shipyard.cli.main import cli
from shipyard.errors import EnvironmentMismatchError
from shipyard.serving import ServeConfig, create_serving_app
from tests.serving.conftest import Registry
from tests.serving.support import serve_in_thread


def _refused(registry: Registry, *args: str) -> str:
    result = CliRunner().invoke(cli, ["serve", *args], env=registry.env)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_strict_env_refuses_a_model_saved_in_another_environment(registry: Registry) -> None:
    line = _refused(registry, f"runs:/{registry.foreign_run}/foreign", "--strict-env")
    assert "another environment" in line
    assert "scikit-learn 0.20.4 (saved with)" in line
    assert "--strict-env" in line


def test_without_strict_env_it_serves_and_warns(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    uri = f"runs:/{registry.foreign_run}/foreign"
    with caplog.at_level(logging.WARNING, logger="shipyard.serving"):
        app = create_serving_app(
            ServeConfig(uri, log_predictions=False, poll_interval=0), client=registry.client
        )
    warnings = [r.getMessage() for r in caplog.records if "another environment" in r.getMessage()]
    assert len(warnings) == 1 and "scikit-learn 0.20.4" in warnings[0]
    with serve_in_thread(app) as url:
        # A runs:/ URI has no registered name: the model is served as "model".
        meta = httpx.get(f"{url}/v2/models/model").json()
        assert meta["versions"] == [f"run-{registry.foreign_run}"]
        x = registry.x[:3]
        response = httpx.post(f"{url}/invocations", json={"instances": x.tolist()})
        assert response.json()["predictions"] == registry.expected("digits", 1, x).tolist()
        assert response.headers["shipyard-model-version"] == f"run-{registry.foreign_run}"


def test_strict_env_in_the_api(registry: Registry) -> None:
    with pytest.raises(EnvironmentMismatchError, match=r"scikit-learn 0\.20\.4"):
        create_serving_app(
            ServeConfig(f"runs:/{registry.foreign_run}/foreign", strict_env=True),
            client=registry.client,
        )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["models:/nope@production"], "nope"),
        (["not-a-uri"], "is not a model URI"),
        (["models:/digits/9"], "9"),
        (["models:/digits-swap/3"], "trust"),
        (["models:/digits/1", "--canary-percent", "10"], "needs a canary model URI"),
        (["models:/digits/1", "--canary", "models:/digits@nope"], "nope"),
    ],
)
def test_models_that_cannot_be_served_are_refused_in_one_line(
    registry: Registry, args: list[str], needle: str
) -> None:
    assert needle in _refused(registry, *args)


def test_what_is_loaded_at_start_is_kept_out_of_full_collections(registry: Registry) -> None:
    """Full collections walked the whole model and web stack, ~150 ms stalls at p99."""
    app = create_serving_app(
        ServeConfig("models:/digits/1", log_predictions=False, poll_interval=0),
        client=registry.client,
    )
    model = app.state.serving.router.primary.current.model
    assert any(o is model for o in gc.get_objects())
    with serve_in_thread(app):
        assert not any(o is model for o in gc.get_objects())  # frozen: not scanned


def test_the_name_option(registry: Registry) -> None:
    app = create_serving_app(
        ServeConfig("models:/digits/2", name="ocr", log_predictions=False, poll_interval=0),
        client=registry.client,
    )
    with serve_in_thread(app) as url:
        assert httpx.get(f"{url}/v2/models/ocr/ready").status_code == 200
        assert httpx.get(f"{url}/v2/models/digits/ready").status_code == 404
        assert httpx.get(f"{url}/v2/models/ocr").json()["versions"] == ["2"]
