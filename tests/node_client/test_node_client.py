"""A Node client built from the contract's .proto files calls the real service."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.service import RunningService, running_service

NODE_PROJECT = Path(__file__).resolve().parents[1] / "node"
CLIENT_SCRIPT = NODE_PROJECT / "client.mjs"


def _node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is not on PATH: the Node client check needs Node.js (18 or newer)")
    if not (NODE_PROJECT / "node_modules" / "@grpc" / "grpc-js").is_dir():
        pytest.fail(
            f"{NODE_PROJECT / 'node_modules'} is missing: install it with "
            "`npm ci --prefix tests/node` before running the tests"
        )
    return found


async def _run_client(address: str, token: str | None) -> dict[str, Any]:
    environment = {
        key: value for key, value in os.environ.items() if key != "INTEGRATION_API_TOKEN"
    }
    if token is not None:
        environment["INTEGRATION_API_TOKEN"] = token
    process = await asyncio.create_subprocess_exec(
        _node(),
        str(CLIENT_SCRIPT),
        address,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    result: dict[str, Any] = json.loads(stdout)
    return result


@pytest.fixture(scope="module")
async def service(postgres_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(postgres_dsn) as running:
        yield running


async def test_node_client_sees_the_service_serving(service: RunningService) -> None:
    result = await _run_client(service.address, token=service.token())

    assert result["health"] == {"ok": True, "code": "OK", "reply": {"status": "SERVING"}}


async def test_node_client_lists_no_credentials_for_a_fresh_tenant(
    service: RunningService,
) -> None:
    result = await _run_client(service.address, token=service.token(organization_id="org-node"))

    listing = result["listCredentials"]
    assert listing["ok"] is True, listing
    assert listing["reply"] == {"credentials": [], "next_page_token": ""}


async def test_node_client_without_a_token_is_unauthenticated(service: RunningService) -> None:
    result = await _run_client(service.address, token=None)

    assert result["health"]["reply"]["status"] == "SERVING"
    listing = result["listCredentials"]
    assert listing["ok"] is False
    assert listing["code"] == "UNAUTHENTICATED"
