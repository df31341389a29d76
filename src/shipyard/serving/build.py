"""``shipyard build``: a model as a container image context plus Kubernetes manifests.

::

    shipyard build models:/digits@production --out build/digits
    docker build -t digits:3 build/digits && kubectl apply -f build/digits/k8s/

The folder holds::

    Dockerfile         slim Python at the model's Python version, non-root,
                       HEALTHCHECK on /v2/health/ready, `shipyard serve /model`
    requirements.txt   the model's recorded packages, pinned, and shipyard itself
    model/             the model package (its files and shipyard-model.json)
    wheels/            a shipyard wheel, when one is given (--shipyard-wheel)
    k8s/               deployment.yaml, service.yaml, hpa.yaml

The image serves the copied package from ``/model`` and so needs no store to
start; it logs predictions only when built with ``log_store_uri`` (the store's
URL is then set as ``SHIPYARD_URI`` in the Deployment).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard._version import __version__
from shipyard.errors import ConflictError, InvalidInputError
from shipyard.serving.build_k8s import USER_ID, DeploymentSpec, dns_label, manifests
from shipyard.serving.build_package import ModelPackage, fetch_package

if TYPE_CHECKING:
    from shipyard.tracking.client import Client

__all__ = ["BuildOptions", "BuildResult", "build", "dockerfile", "requirements"]

MODEL_DIR = "/model"
# Installed by the image itself, or not installable from an index: never pinned.
_NOT_PINNED = frozenset({"python", "shipyard", "pip", "setuptools", "wheel"})
_PYTHON_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
_REQUIREMENT_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]*")


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """How to build: see ``shipyard build --help`` for each field."""

    name: str | None = None
    image: str | None = None
    base_image: str | None = None
    port: int = 8080
    shipyard_requirement: str | None = None
    shipyard_wheel: Path | None = None
    log_store_uri: str | None = None
    trust: bool = False
    force: bool = False
    min_replicas: int = 1
    max_replicas: int = 4
    target_cpu_percent: int = 70
    cpu_request: str = "500m"
    cpu_limit: str = "2"
    memory_request: str = "512Mi"
    memory_limit: str = "2Gi"


@dataclass(frozen=True, slots=True)
class BuildResult:
    folder: Path
    image: str
    name: str
    python: str
    files: list[str]


def _python_version(environment: Mapping[str, Any]) -> str:
    recorded = str(environment.get("python") or "")
    match = _PYTHON_RE.fullmatch(recorded.strip())
    if match is None:
        raise InvalidInputError(
            f"the model records no usable Python version ({recorded!r}); give --base-image"
        )
    return recorded.strip()


def requirements(environment: Mapping[str, Any], shipyard_line: str) -> list[str]:
    """Pinned requirement lines: shipyard first, then the model's packages by name."""
    packages = environment.get("packages") or {}
    if not isinstance(packages, Mapping):
        raise InvalidInputError("the model's environment lists its packages in an unknown form")
    lines = [shipyard_line]
    for name in sorted(packages, key=str.lower):
        version = str(packages[name])
        if name.lower() in _NOT_PINNED:
            continue
        if not _REQUIREMENT_NAME_RE.fullmatch(name) or not _VERSION_RE.fullmatch(version):
            raise InvalidInputError(
                f"the model's environment holds an odd package {name}=={version}"
            )
        lines.append(f"{name}=={version}")
    return lines


def _serve_command(name: str, port: int, trust: bool, log_predictions: bool) -> list[str]:
    argv = ["shipyard", "serve", MODEL_DIR, "--host", "0.0.0.0", "--port", str(port)]
    argv += ["--name", name]
    if not log_predictions:
        argv.append("--no-log-predictions")
    if trust:
        argv.append("--trust")
    return argv


def dockerfile(
    base_image: str,
    *,
    name: str,
    port: int,
    wheel: str | None,
    trust: bool,
    log_predictions: bool,
) -> str:
    """The Dockerfile's text (see the module docstring)."""
    probe = (
        "import sys, urllib.request; "
        f"sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:{port}/v2/health/ready', "
        "timeout=2).status == 200 else 1)"
    )
    install = "RUN pip install --no-cache-dir -r /tmp/requirements.txt"
    if wheel is not None:
        install = (
            f"COPY wheels/ /tmp/wheels/\n"
            f"RUN pip install --no-cache-dir /tmp/wheels/{wheel} -r /tmp/requirements.txt "
            "&& rm -rf /tmp/wheels"
        )
    command = json.dumps(_serve_command(name, port, trust, log_predictions))
    return f"""\
# Built by `shipyard build` (shipyard {__version__}).
FROM {base_image}

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    SHIPYARD_HOME=/home/shipyard/.shipyard

RUN groupadd --gid {USER_ID} shipyard \\
    && useradd --uid {USER_ID} --gid {USER_ID} --create-home --shell /usr/sbin/nologin shipyard

COPY requirements.txt /tmp/requirements.txt
{install}

COPY --chown={USER_ID}:{USER_ID} model/ {MODEL_DIR}/

USER {USER_ID}:{USER_ID}
WORKDIR /home/shipyard
EXPOSE {port}

HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \\
    CMD ["python", "-c", {json.dumps(probe)}]

CMD {command}
"""


def _yaml(data: Mapping[str, Any]) -> str:
    import yaml  # type: ignore[import-untyped]  # uvicorn[standard] depends on PyYAML

    text: str = yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False)
    return text


def _prepare_folder(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise ConflictError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise ConflictError(f"{folder} is not empty; give --force to replace what is there")
        for part in ("model", "k8s", "wheels", "Dockerfile", "requirements.txt", ".dockerignore"):
            target = folder / part
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    folder.mkdir(parents=True, exist_ok=True)


def build(
    model_uri: str,
    out: str | Path,
    options: BuildOptions | None = None,
    *,
    client: Client | None = None,
) -> BuildResult:
    """Write the image context and manifests of ``model_uri`` into ``out``."""
    options = options or BuildOptions()
    if options.shipyard_wheel is not None and not Path(options.shipyard_wheel).is_file():
        raise InvalidInputError(f"shipyard wheel {str(options.shipyard_wheel)!r} does not exist")
    if not 1 <= options.min_replicas <= options.max_replicas:
        raise InvalidInputError(
            f"replicas must satisfy 1 <= min ({options.min_replicas}) <= max "
            f"({options.max_replicas})"
        )
    folder = Path(out)
    _prepare_folder(folder, options.force)
    package: ModelPackage = fetch_package(
        model_uri, folder / "model", trust=options.trust, client=client
    )
    environment = package.manifest.get("environment") or {}
    if options.base_image is None:
        python = _python_version(environment)
        base_image = f"python:{python}-slim"
    else:
        python, base_image = str(environment.get("python") or ""), options.base_image
    served_name = options.name or package.name or "model"
    name = dns_label(served_name)
    tag = str(package.version) if package.version is not None else __version__
    image = options.image or f"{name}:{tag}"

    wheel_name = None
    if options.shipyard_wheel is not None:
        wheels = folder / "wheels"
        wheels.mkdir(exist_ok=True)
        wheel_name = Path(options.shipyard_wheel).name
        shutil.copy2(options.shipyard_wheel, wheels / wheel_name)
    shipyard_line = options.shipyard_requirement or f"shipyard=={__version__}"
    lines = requirements(environment, "" if wheel_name else shipyard_line)
    (folder / "requirements.txt").write_text("\n".join(line for line in lines if line) + "\n")
    (folder / "Dockerfile").write_text(
        dockerfile(
            base_image,
            name=served_name,
            port=options.port,
            wheel=wheel_name,
            trust=options.trust,
            log_predictions=options.log_store_uri is not None,
        )
    )
    (folder / ".dockerignore").write_text("k8s/\n")
    env = {"SHIPYARD_URI": options.log_store_uri} if options.log_store_uri else {}
    spec = DeploymentSpec(
        name=name,
        image=image,
        port=options.port,
        env=env,
        min_replicas=options.min_replicas,
        max_replicas=options.max_replicas,
        target_cpu_percent=options.target_cpu_percent,
        cpu_request=options.cpu_request,
        cpu_limit=options.cpu_limit,
        memory_request=options.memory_request,
        memory_limit=options.memory_limit,
    )
    k8s = folder / "k8s"
    k8s.mkdir(exist_ok=True)
    for file_name, manifest in manifests(spec).items():
        (k8s / file_name).write_text(_yaml(manifest))
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    return BuildResult(folder, image, served_name, python, files)
