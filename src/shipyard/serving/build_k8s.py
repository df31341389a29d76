"""Kubernetes manifests of a served model: Deployment, Service, HorizontalPodAutoscaler.

Plain dictionaries in the shape of the Kubernetes API objects (apps/v1,
v1, autoscaling/v2), written as YAML by :mod:`shipyard.serving.build`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DeploymentSpec", "dns_label", "manifests"]

CONTAINER_PORT_NAME = "http"
READY_PATH = "/v2/health/ready"
LIVE_PATH = "/v2/health/live"
USER_ID = 10001


def dns_label(text: str, fallback: str = "model") -> str:
    """A Kubernetes object name (RFC 1123 label): lowercase letters, digits and ``-``."""
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].rstrip("-")
    return label or fallback


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    name: str
    image: str
    port: int = 8080
    service_port: int = 80
    min_replicas: int = 1
    max_replicas: int = 4
    target_cpu_percent: int = 70
    cpu_request: str = "500m"
    cpu_limit: str = "2"
    memory_request: str = "512Mi"
    memory_limit: str = "2Gi"
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


def _probe(path: str, initial_delay: int, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": CONTAINER_PORT_NAME},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def _deployment(spec: DeploymentSpec, labels: dict[str, str]) -> dict[str, Any]:
    selector = {"app.kubernetes.io/name": spec.name}
    container: dict[str, Any] = {
        "name": spec.name,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": CONTAINER_PORT_NAME, "containerPort": spec.port, "protocol": "TCP"}],
        # Ready once the model is loaded and checked; alive while the process answers.
        "readinessProbe": _probe(READY_PATH, 5, 5, 3),
        "livenessProbe": _probe(LIVE_PATH, 30, 10, 3),
        # Loading a large model can take longer than the liveness budget allows.
        "startupProbe": _probe(LIVE_PATH, 0, 5, 60),
        "resources": {
            "requests": {"cpu": spec.cpu_request, "memory": spec.memory_request},
            "limits": {"cpu": spec.cpu_limit, "memory": spec.memory_limit},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": USER_ID,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if spec.env:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(spec.env.items())]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {
            "replicas": spec.min_replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": USER_ID},
                    "terminationGracePeriodSeconds": 30,
                    "containers": [container],
                },
            },
        },
    }


def _service(spec: DeploymentSpec, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": spec.name},
            "ports": [
                {
                    "name": CONTAINER_PORT_NAME,
                    "port": spec.service_port,
                    "targetPort": CONTAINER_PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }


def _autoscaler(spec: DeploymentSpec, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.name},
            "minReplicas": spec.min_replicas,
            "maxReplicas": spec.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": spec.target_cpu_percent,
                        },
                    },
                }
            ],
        },
    }


def manifests(spec: DeploymentSpec) -> dict[str, dict[str, Any]]:
    """File name -> object: ``deployment.yaml``, ``service.yaml``, ``hpa.yaml``."""
    labels = {
        "app.kubernetes.io/name": spec.name,
        "app.kubernetes.io/managed-by": "shipyard",
        **spec.labels,
    }
    return {
        "deployment.yaml": _deployment(spec, labels),
        "service.yaml": _service(spec, labels),
        "hpa.yaml": _autoscaler(spec, labels),
    }
