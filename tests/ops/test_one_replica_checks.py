"""The background checker runs on one replica at a time, and another takes over when it stops."""

from __future__ import annotations

import asyncio
import secrets

from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.config import OperationsSettings
from integration_api.ops.service import Operations
from integration_api.vault import generate_key
from tests.credentials.helpers import openai_request
from tests.fakes.server import FakeServer
from tests.support.service import RunningService, running_service

FAST = OperationsSettings(
    health_check_interval_seconds=0.3, health_check_jitter_seconds=0.0, lease_retry_seconds=0.1
)


def _operations(service: RunningService) -> Operations:
    assert service.app.runtime is not None
    return service.app.runtime.operations


def _leading(*services: RunningService) -> list[bool]:
    return [bool(_operations(s).leader and _operations(s).leader.leading) for s in services]


async def _until(condition: object, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")


async def test_two_replicas_one_checker_and_a_takeover(
    empty_database_dsn: str, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    server, accepted = openai_fake
    key = "sk-proj-" + secrets.token_urlsafe(24)
    accepted.add(key)
    # Replicas of one deployment share the database, SECRET and encryption key.
    shared = {"operations": FAST, "secret": secrets.token_urlsafe(48), "crypto_key": generate_key()}
    async with (
        running_service(empty_database_dsn, **shared) as first,
        running_service(empty_database_dsn, **shared) as second,
    ):
        await _until(lambda: any(_leading(first, second)))
        assert _leading(first, second).count(True) == 1
        await CredentialServiceStub(first.channel).create_credential(
            openai_request(key, server.url, name="checked"), metadata=first.auth()
        )
        leader, standby = (first, second) if _leading(first)[0] else (second, first)
        leader_checker = _operations(leader).checker
        standby_checker = _operations(standby).checker
        assert leader_checker is not None and standby_checker is not None
        await _until(lambda: leader_checker.rounds >= 3)
        assert standby_checker.rounds == 0
        await leader.app.stop(grace_seconds=0)
        await _until(lambda: _leading(standby)[0])
        await _until(lambda: standby_checker.rounds >= 1)
