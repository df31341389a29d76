"""``shipyard build MODEL_URI --out DIR``: a container image context and Kubernetes manifests."""

from __future__ import annotations

from pathlib import Path

import click

from .output import client, json_option, print_json

__all__ = ["command"]


@click.command("build")
@click.argument("model_uri")
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to write (created; must be empty unless --force).",
)
@click.option("--name", help="Name under /v2/models/ and of the Kubernetes objects.")
@click.option("--image", help="Image reference the Deployment runs. Default: NAME:VERSION.")
@click.option(
    "--base-image", help="Base image. Default: python:X.Y.Z-slim at the model's Python version."
)
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Server port."
)
@click.option(
    "--shipyard-requirement",
    help="pip requirement of shipyard in the image. Default: shipyard==<this version>.",
)
@click.option(
    "--shipyard-wheel",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A shipyard wheel to copy into the image and install instead.",
)
@click.option(
    "--log-to",
    "log_store_uri",
    metavar="URI",
    help="Shipyard server URL the container logs predictions to (default: no logging).",
)
@click.option("--trust", is_flag=True, help="Serve a pickled model (it runs code when loaded).")
@click.option("--min-replicas", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--max-replicas", default=4, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--target-cpu",
    default=70,
    show_default=True,
    type=click.IntRange(1, 100),
    help="CPU use (% of request) the autoscaler aims at.",
)
@click.option("--cpu", "cpu_request", default="500m", show_default=True, help="CPU request.")
@click.option("--cpu-limit", default="2", show_default=True, help="CPU limit.")
@click.option("--memory", "memory_request", default="512Mi", show_default=True)
@click.option("--memory-limit", default="2Gi", show_default=True)
@click.option("--force", is_flag=True, help="Replace what an earlier build wrote in --out.")
@json_option
def command(
    model_uri: str,
    out: str,
    name: str | None,
    image: str | None,
    base_image: str | None,
    port: int,
    shipyard_requirement: str | None,
    shipyard_wheel: Path | None,
    log_store_uri: str | None,
    trust: bool,
    min_replicas: int,
    max_replicas: int,
    target_cpu: int,
    cpu_request: str,
    cpu_limit: str,
    memory_request: str,
    memory_limit: str,
    force: bool,
    as_json: bool,
) -> None:
    """Write a Dockerfile, the model package and Kubernetes manifests for MODEL_URI.

    MODEL_URI is models:/NAME@ALIAS, models:/NAME/VERSION, runs:/<id>/model or a
    package folder. Then: docker build -t IMAGE OUT && kubectl apply -f OUT/k8s/
    """
    from shipyard.serving.build import BuildOptions, build

    options = BuildOptions(
        name=name,
        image=image,
        base_image=base_image,
        port=port,
        shipyard_requirement=shipyard_requirement,
        shipyard_wheel=shipyard_wheel,
        log_store_uri=log_store_uri,
        trust=trust,
        force=force,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        target_cpu_percent=target_cpu,
        cpu_request=cpu_request,
        cpu_limit=cpu_limit,
        memory_request=memory_request,
        memory_limit=memory_limit,
    )
    result = build(model_uri, out, options, client=client())
    if as_json:
        print_json(
            {
                "folder": str(result.folder),
                "image": result.image,
                "name": result.name,
                "python": result.python,
                "files": result.files,
            }
        )
        return
    click.echo(f"Wrote {len(result.files)} files to {result.folder}. Next:")
    click.echo(f"  docker build -t {result.image} {result.folder}")
    click.echo(f"  kubectl apply -f {result.folder / 'k8s'}")
