"""``shipyard build``: the Dockerfile, the copied package and Kubernetes manifests that the
Kubernetes API's own object models accept."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from kubernetes.client import ApiClient

from shipyard._version import __version__
from shipyard.cli.main import cli
from shipyard.errors import ConflictError, DataCorruptionError, InvalidInputError
from shipyard.serving.build import BuildOptions, build
from shipyard.store.hashing import hash_bytes

PACKAGES = {"scikit-learn": "1.5.2", "numpy": "2.1.3", "skops": "0.10.0", "shipyard": "0.1.0"}


def make_package(folder: Path, python: str = "3.11.7") -> Path:
    """A model package as ``log_model`` writes one: its files and the manifest listing them."""
    folder.mkdir(parents=True)
    weights = b"not really a model, but bytes with a digest"
    (folder / "model.skops").write_bytes(weights)
    (folder / "input_example.json").write_text('{"inputs": [[0.0, 1.0]]}')
    manifest = {
        "format": 1,
        "flavor": "sklearn",
        "environment": {"python": python, "packages": PACKAGES},
        "files": {"model.skops": {"digest": hash_bytes(weights), "size": len(weights)}},
        "input_example": "input_example.json",
    }
    (folder / "shipyard-model.json").write_text(json.dumps(manifest))
    return folder


def k8s_object(document: dict[str, Any], kind: str) -> Any:
    """``document`` as the Kubernetes client's model ``kind``.

    The models refuse a missing required field; turning the object back into a
    dictionary and comparing catches any field the API does not know (a typo
    would otherwise be dropped silently).
    """
    api = ApiClient()
    text = json.dumps(document)
    if "content_type" in inspect.signature(api.deserialize).parameters:
        obj = api.deserialize(text, kind, "application/json")
    else:  # clients before v32 read a response object's .data
        obj = api.deserialize(SimpleNamespace(data=text), kind)
    assert api.sanitize_for_serialization(obj) == document
    return obj


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = text.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        found.append((word.upper(), " ".join(rest.split())))
    return found


def test_a_package_folder_builds_into_an_image_context(tmp_path: Path) -> None:
    package = make_package(tmp_path / "pkg")
    result = build(str(package), tmp_path / "out", BuildOptions(name="Digits_v2"))
    out = tmp_path / "out"
    assert result.name == "Digits_v2" and result.image == f"digits-v2:{__version__}"
    assert result.python == "3.11.7"
    assert set(result.files) == {
        "Dockerfile",
        ".dockerignore",
        "requirements.txt",
        "model/model.skops",
        "model/input_example.json",
        "model/shipyard-model.json",
        "k8s/deployment.yaml",
        "k8s/service.yaml",
        "k8s/hpa.yaml",
    }
    assert (out / "model" / "model.skops").read_bytes() == (package / "model.skops").read_bytes()
    assert (out / "requirements.txt").read_text().splitlines() == [
        f"shipyard=={__version__}",
        "numpy==2.1.3",
        "scikit-learn==1.5.2",
        "skops==0.10.0",
    ]

    steps = dockerfile_instructions((out / "Dockerfile").read_text())
    kinds = [kind for kind, _ in steps]
    assert steps[0] == ("FROM", "python:3.11.7-slim")
    user = dict(steps)["USER"]
    assert user.split(":")[0] not in ("root", "0")
    assert kinds.index("USER") < kinds.index("CMD")
    assert kinds.index("USER") > max(i for i, k in enumerate(kinds) if k == "RUN")
    health = dict(steps)["HEALTHCHECK"]
    assert "CMD" in health and "/v2/health/ready" in health and "8080" in health
    command = json.loads(dict(steps)["CMD"])
    assert command[:3] == ["shipyard", "serve", "/model"]
    assert command[command.index("--port") + 1] == "8080"
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--name") + 1] == "Digits_v2"
    assert "--no-log-predictions" in command and "--trust" not in command
    assert dict(steps)["EXPOSE"] == "8080"
    assert any(kind == "COPY" and "model/ /model/" in args for kind, args in steps)


def test_the_manifests_are_valid_kubernetes_objects_that_agree(tmp_path: Path) -> None:
    package = make_package(tmp_path / "pkg")
    options = BuildOptions(
        name="digits",
        image="registry.local/digits:3",
        port=9000,
        min_replicas=2,
        max_replicas=6,
        cpu_request="250m",
        memory_limit="1Gi",
        log_store_uri="http://shipyard.mlops.svc:5000",
    )
    build(str(package), tmp_path / "out", options)
    k8s = tmp_path / "out" / "k8s"
    docs = {
        name: yaml.safe_load((k8s / name).read_text())
        for name in ("deployment.yaml", "service.yaml", "hpa.yaml")
    }

    deployment = k8s_object(docs["deployment.yaml"], "V1Deployment")
    service = k8s_object(docs["service.yaml"], "V1Service")
    hpa = k8s_object(docs["hpa.yaml"], "V2HorizontalPodAutoscaler")

    assert (deployment.api_version, deployment.kind) == ("apps/v1", "Deployment")
    assert (service.api_version, service.kind) == ("v1", "Service")
    assert (hpa.api_version, hpa.kind) == ("autoscaling/v2", "HorizontalPodAutoscaler")

    spec = deployment.spec
    assert spec.selector.match_labels.items() <= spec.template.metadata.labels.items()
    [container] = spec.template.spec.containers
    assert container.image == "registry.local/digits:3"
    [port] = container.ports
    assert port.container_port == 9000
    assert container.readiness_probe.http_get.path == "/v2/health/ready"
    assert container.liveness_probe.http_get.path == "/v2/health/live"
    for probe in (container.readiness_probe, container.liveness_probe):
        assert probe.http_get.port in (port.name, port.container_port)
    assert container.resources.requests == {"cpu": "250m", "memory": "512Mi"}
    assert container.resources.limits == {"cpu": "2", "memory": "1Gi"}
    assert container.security_context.run_as_non_root is True
    assert container.security_context.run_as_user != 0
    assert {e.name: e.value for e in container.env} == {
        "SHIPYARD_URI": "http://shipyard.mlops.svc:5000"
    }

    # The Service selects the Deployment's pods and targets the container's port.
    assert service.spec.selector.items() <= spec.template.metadata.labels.items()
    [service_port] = service.spec.ports
    assert service_port.target_port in (port.name, port.container_port)

    assert hpa.spec.scale_target_ref.kind == "Deployment"
    assert hpa.spec.scale_target_ref.name == deployment.metadata.name
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (2, 6)
    assert spec.replicas == 2
    [metric] = hpa.spec.metrics
    assert metric.resource.name == "cpu" and metric.resource.target.average_utilization == 70

    # With a store to log to, the container logs its predictions.
    command = json.loads(
        dict(dockerfile_instructions((tmp_path / "out" / "Dockerfile").read_text()))["CMD"]
    )
    assert "--no-log-predictions" not in command
    assert command[command.index("--port") + 1] == "9000"


def test_a_shipyard_wheel_and_base_image_can_be_given(tmp_path: Path) -> None:
    package = make_package(tmp_path / "pkg", python="3.12.1")
    wheel = tmp_path / "shipyard-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    options = BuildOptions(shipyard_wheel=wheel, base_image="python:3.12-slim-bookworm", trust=True)
    build(str(package), tmp_path / "out", options)
    out = tmp_path / "out"
    assert (out / "wheels" / wheel.name).read_bytes() == b"wheel"
    assert not any(
        line.startswith("shipyard") for line in (out / "requirements.txt").read_text().splitlines()
    )
    steps = dockerfile_instructions((out / "Dockerfile").read_text())
    assert steps[0] == ("FROM", "python:3.12-slim-bookworm")
    runs = " ".join(args for kind, args in steps if kind == "RUN")
    assert f"/tmp/wheels/{wheel.name}" in runs
    assert "--trust" in json.loads(dict(steps)["CMD"])


def test_an_earlier_build_is_replaced_only_with_force(tmp_path: Path) -> None:
    package = make_package(tmp_path / "pkg")
    build(str(package), tmp_path / "out")
    with pytest.raises(ConflictError, match="--force"):
        build(str(package), tmp_path / "out")
    (package / "model.skops").write_bytes(b"changed")
    manifest = json.loads((package / "shipyard-model.json").read_text())
    manifest["files"]["model.skops"] = {"digest": hash_bytes(b"changed"), "size": 7}
    (package / "shipyard-model.json").write_text(json.dumps(manifest))
    build(str(package), tmp_path / "out", BuildOptions(force=True))
    assert (tmp_path / "out" / "model" / "model.skops").read_bytes() == b"changed"


def test_bad_packages_and_uris_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="neither a model URI"):
        build(str(tmp_path / "missing"), tmp_path / "out1")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match=r"shipyard-model\.json"):
        build(str(tmp_path / "empty"), tmp_path / "out2")
    package = make_package(tmp_path / "pkg")
    (package / "model.skops").write_bytes(b"tampered")
    with pytest.raises(DataCorruptionError, match=r"model\.skops"):
        build(str(package), tmp_path / "out3")
    other = make_package(tmp_path / "pkg2", python="unknown")
    with pytest.raises(InvalidInputError, match="Python version"):
        build(str(other), tmp_path / "out4")
    with pytest.raises(InvalidInputError, match="replicas"):
        build(str(other), tmp_path / "out5", BuildOptions(min_replicas=3, max_replicas=2))


def test_the_cli_writes_the_folder_and_reports_errors_on_one_line(tmp_path: Path) -> None:
    package = make_package(tmp_path / "pkg")
    runner = CliRunner()
    out = tmp_path / "out"
    done = runner.invoke(
        cli, ["build", str(package), "--out", str(out), "--name", "digits", "--json"]
    )
    assert done.exit_code == 0, done.output
    answer = json.loads(done.output)
    assert answer["image"] == f"digits:{__version__}" and "Dockerfile" in answer["files"]
    again = runner.invoke(cli, ["build", str(package), "--out", str(out)])
    assert again.exit_code == 1
    assert again.output.strip().splitlines() == [
        f"Error: {out} is not empty; give --force to replace what is there"
    ]
