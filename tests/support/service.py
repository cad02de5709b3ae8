"""The real service, in-process, on 127.0.0.1:0, with a real client channel."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc.aio

from integration_api.assembly.app import Application
from integration_api.auth.tokens import mint_token
from integration_api.config import CallGateSettings, RedisSettings, Settings
from integration_api.vault import generate_key

DEFAULT_ORGANIZATION = "org-test"
DEFAULT_PROJECT = "project-test"
# The local servers that stand in for providers; egress tests build services without it.
LOOPBACK_EGRESS_ALLOW = ("127.0.0.0/8", "::1")


@dataclass
class RunningService:
    app: Application
    channel: grpc.aio.Channel
    settings: Settings

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.app.port}"

    def token(
        self,
        organization_id: str = DEFAULT_ORGANIZATION,
        project_id: str = DEFAULT_PROJECT,
        user_id: str = "user-1",
    ) -> str:
        return mint_token(
            self.settings.secret,
            organization_id=organization_id,
            project_id=project_id,
            user_id=user_id,
        )

    def auth(self, **tenant: str) -> tuple[tuple[str, str], ...]:
        """Call metadata carrying a valid token for the given (or default) tenant."""
        return (("authorization", f"Bearer {self.token(**tenant)}"),)

    def operator_auth(self, subject: str = "olga") -> tuple[tuple[str, str], ...]:
        """Call metadata carrying an operator's token (acts across tenants)."""
        token = mint_token(
            self.settings.secret,
            organization_id="ops",
            project_id="ops",
            subject=subject,
            operator=True,
        )
        return (("authorization", f"Bearer {token}"),)


def settings_for_tests(data_dir: Path, **overrides: Any) -> Settings:
    settings = Settings(
        environment="test",
        host="127.0.0.1",
        port=0,
        metrics_port=0,
        secret=secrets.token_urlsafe(48),
        crypto_key=generate_key(),
        data_dir=data_dir,
        readiness_interval_seconds=0.2,
        shutdown_grace_seconds=5.0,
        egress_allow=LOOPBACK_EGRESS_ALLOW,
        # Tests share a credential across many failure scenarios: the breaker and the providers'
        # pauses would carry one test's failures into the next. The gate's tests turn them on.
        gate=GATE_OFF,
    )
    return replace(settings, **overrides)


GATE_OFF = CallGateSettings(breaker_failures=0, max_provider_pause_seconds=0)


@asynccontextmanager
async def running_service(database_dsn: str, **overrides: Any) -> AsyncIterator[RunningService]:
    with tempfile.TemporaryDirectory(prefix="integration-api-test-") as data_dir:
        settings = settings_for_tests(Path(data_dir), **overrides)
        app = Application(settings, database_dsn=database_dsn)
        await app.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")
        try:
            yield RunningService(app=app, channel=channel, settings=settings)
        finally:
            await channel.close()
            await app.stop(grace_seconds=1.0)


@asynccontextmanager
async def gated_service(
    database_dsn: str, gate: CallGateSettings, **overrides: Any
) -> AsyncIterator[RunningService]:
    """A service with the call gate on, counting in Redis under keys of its own (no test's
    limits, pauses or breakers reach another's)."""
    redis = RedisSettings(host="127.0.0.1", key_prefix=f"itest:{secrets.token_hex(4)}:")
    async with running_service(database_dsn, gate=gate, redis=redis, **overrides) as running:
        yield running
