"""The production overlays verify their stores' certificates with CA files that are really there."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

from tests.deploy.manifests import OVERLAYS, one, settings

CA_FILES = {
    "POSTGRES__SSL_ROOT_CERT": "integration-api-postgres-ca",
    "REDIS__TLS_CA_CERT": "integration-api-redis-ca",
}
# Every pod that reads the settings checks the files named there at start-up.
PODS = (("Deployment", "integration-api"), ("Job", "integration-api-migrate"))


def _secret_file(pod: dict[str, Any], path: str) -> tuple[str, str, int, int]:
    """The Secret, its key, the file mode and the pod's fsGroup behind `path` in `pod`."""
    spec = pod["spec"]["template"]["spec"]
    [container] = spec["containers"]
    file = PurePosixPath(path)
    [mount] = [m for m in container["volumeMounts"] if PurePosixPath(m["mountPath"]) == file.parent]
    assert mount["readOnly"] is True
    [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
    secret = volume["secret"]
    [item] = [i for i in secret["items"] if i["path"] == file.name]
    return (
        secret["secretName"],
        item["key"],
        secret["defaultMode"],
        spec["securityContext"]["fsGroup"],
    )


@pytest.mark.parametrize("kustomization", OVERLAYS)
def test_stores_are_verified_with_ca_files_mounted_from_their_secrets(kustomization: str) -> None:
    configured = settings(kustomization)
    assert configured["POSTGRES__SSL_MODE"] == "verify-full"
    assert configured["REDIS__TLS"] == "true"
    for kind, name in PODS:
        pod = one(kustomization, kind, name)
        for setting, secret_name in CA_FILES.items():
            secret, key, mode, fs_group = _secret_file(pod, configured[setting])
            assert (secret, key) == (secret_name, "ca.crt"), f"{kind} {setting}"
            # Readable by the pod's group (the files belong to fsGroup), by no one else.
            assert fs_group == 10001 and mode & 0o040 and not mode & 0o007, f"{kind} {setting}"
