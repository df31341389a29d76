"""``shipyard build`` of a registered model: the package comes from the store, whole and
verified, and the image pins what the model recorded."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest
import sklearn
from click.testing import CliRunner
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from shipyard._version import __version__
from shipyard.cli.main import cli
from shipyard.errors import UntrustedModelError
from shipyard.serving.build import BuildOptions, build
from shipyard.store.hashing import hash_file
from shipyard.tracking.client import Client
from tests.serving.test_build import dockerfile_instructions


@pytest.fixture
def client(tmp_path: Path) -> Client:
    c = Client(str(tmp_path / "store"))
    X, y = load_digits(return_X_y=True)
    model = LogisticRegression(max_iter=3000).fit(X[:300], y[:300])
    with c.start_run(experiment="digits") as run:
        run.log_model(model, input_example=X[:2], registered_model_name="digits")
    return c


def test_a_registered_version_builds_with_its_environment(client: Client, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = build("models:/digits/1", out, client=client)

    assert (result.name, result.image) == ("digits", "digits:1")
    assert result.python == platform.python_version()
    manifest = json.loads((out / "model" / "shipyard-model.json").read_text())
    for relative, info in manifest["files"].items():
        assert hash_file(out / "model" / relative)[0] == info["digest"]
    version = client.store.get_model_version("digits", 1)
    assert hash_file(out / "model" / "shipyard-model.json")[0] == version.package_digest

    lines = (out / "requirements.txt").read_text().splitlines()
    assert lines[0] == f"shipyard=={__version__}"
    assert f"scikit-learn=={sklearn.__version__}" in lines
    steps = dockerfile_instructions((out / "Dockerfile").read_text())
    assert steps[0] == ("FROM", f"python:{platform.python_version()}-slim")
    assert json.loads(dict(steps)["CMD"])[:3] == ["shipyard", "serve", "/model"]


def test_a_run_uri_builds_too_and_a_pickled_model_needs_trust(
    client: Client, tmp_path: Path
) -> None:
    version = client.store.get_model_version("digits", 1)
    result = build(
        version.source, tmp_path / "from-run", BuildOptions(name="digits"), client=client
    )
    assert result.image == f"digits:{__version__}"

    # The same estimator pickled (python flavor): loading it would run code.
    X, y = load_digits(return_X_y=True)
    model = LogisticRegression(max_iter=200).fit(X[:200], y[:200])
    with client.start_run(experiment="digits") as run:
        info = run.log_model(model, name="pickled", flavor="python", input_example=[[0.0] * 64])
    with pytest.raises(UntrustedModelError, match="--trust"):
        build(info.uri, tmp_path / "untrusted", client=client)
    trusted = build(info.uri, tmp_path / "trusted", BuildOptions(trust=True), client=client)
    assert "--trust" in json.loads(
        dict(dockerfile_instructions((trusted.folder / "Dockerfile").read_text()))["CMD"]
    )


def test_the_cli_builds_from_the_environments_store(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPYARD_URI", str(tmp_path / "store"))
    done = CliRunner().invoke(cli, ["build", "models:/digits@nope", "--out", str(tmp_path / "o")])
    assert done.exit_code == 1
    assert done.output.startswith("Error: ") and len(done.output.strip().splitlines()) == 1
    ok = CliRunner().invoke(cli, ["build", "models:/digits", "--out", str(tmp_path / "o")])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "o" / "k8s" / "deployment.yaml").is_file()


def test_the_image_command_serves_the_copied_package(client: Client, tmp_path: Path) -> None:
    """What the container does, without Docker: the Dockerfile's CMD on the copied folder."""
    import subprocess
    import sys
    import time

    import httpx

    from tests.support.live_server import free_port

    result = build("models:/digits/1", tmp_path / "out", client=client)
    command = json.loads(
        dict(dockerfile_instructions((result.folder / "Dockerfile").read_text()))["CMD"]
    )
    port = free_port()
    argv = [sys.executable, "-m", *command[:2], str(result.folder / "model")]
    argv += ["--host", "127.0.0.1", "--port", str(port), *command[command.index("--name") :]]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "the server did not get ready"
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        X, _ = load_digits(return_X_y=True)
        answer = httpx.post(f"{url}/invocations", json={"inputs": X[:2].tolist()})
        assert answer.status_code == 200, answer.text
    finally:
        process.terminate()
        process.wait(20)
