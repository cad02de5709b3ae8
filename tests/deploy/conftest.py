from __future__ import annotations

import pytest

from tests.deploy.manifests import kubectl_available


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if kubectl_available():
        return
    skip = pytest.mark.skip(reason="kubectl is needed to render deploy/")
    for item in items:
        if "tests/deploy/test_manifests" in item.nodeid:
            item.add_marker(skip)
