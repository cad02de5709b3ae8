"""The rendered deploy/ kustomizations as Python objects, for tests that read them."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("overlays/production", "overlays/production-oauth")
KUSTOMIZATIONS = ("base", *OVERLAYS)

Manifest = dict[str, Any]


def kubectl_available() -> bool:
    return shutil.which("kubectl") is not None


@functools.cache
def rendered(kustomization: str) -> tuple[Manifest, ...]:
    output = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / kustomization)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return tuple(document for document in yaml.safe_load_all(output) if document)


def of_kind(kustomization: str, kind: str) -> list[Manifest]:
    return [item for item in rendered(kustomization) if item["kind"] == kind]


def one(kustomization: str, kind: str, name: str) -> Manifest:
    matches = [item for item in of_kind(kustomization, kind) if item["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name} in {kustomization}"
    return matches[0]


def server_container(kustomization: str) -> Manifest:
    deployment = one(kustomization, "Deployment", "integration-api")
    containers: list[Manifest] = deployment["spec"]["template"]["spec"]["containers"]
    return next(container for container in containers if container["name"] == "integration-api")


def settings(kustomization: str) -> dict[str, str]:
    """The generated ConfigMap every pod takes its non-secret settings from."""
    (config,) = [
        item
        for item in of_kind(kustomization, "ConfigMap")
        if item["metadata"]["name"].startswith("integration-api-config")
    ]
    data: dict[str, str] = config["data"]
    return data
