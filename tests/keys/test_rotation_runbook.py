"""The whole key rotation, as the runbook has operators do it, with the service serving.

add a decrypt-only key → promote it → rewrap while creates and rotations go on through gRPC →
no row left on the old key → retire it. Every stored secret decrypts after every step, and the
OAuth connections sealed under the old key still give their tokens once it is retired.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    RotateCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.principal import Tenant
from integration_api.store.database import ConnectionPool
from integration_api.vault import Envelope, Keyring, generate_key
from tests.keys.oauth_support import OAuthProviders, access_token, oauth_providers
from tests.keys.support import (
    CLI,
    cli_environment,
    decrypted_secrets,
    new_secret,
    run_cli,
    seal_credentials,
    status_by_store,
    status_table,
    stored_rows,
)
from tests.oauth.database import expire_in
from tests.support.health_client import check_status
from tests.support.service import (
    DEFAULT_ORGANIZATION,
    DEFAULT_PROJECT,
    RunningService,
    running_service,
)

SERVING = health_pb2.HealthCheckResponse.SERVING


async def _assert_serving(service: RunningService) -> None:
    for _attempt in range(50):
        if await check_status(service.channel) == SERVING:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the service is not SERVING")


async def _create(service: RunningService, expected: dict[str, str]) -> str:
    secret = new_secret()
    request = CreateCredentialRequest(
        provider="openai",
        name=f"credential-{secrets.token_hex(4)}",
        secret=CredentialSecret(api_key=ApiKeySecret(key=secret)),
        config=CredentialConfig(base_url="https://api.openai.com/v1"),
        skip_verification=True,
    )
    reply = await CredentialServiceStub(service.channel).create_credential(
        request, metadata=service.auth()
    )
    assert reply.credential is not None
    expected[reply.credential.id] = secret
    return reply.credential.id


async def _rotate(service: RunningService, credential_id: str, expected: dict[str, str]) -> None:
    secret = new_secret()
    request = RotateCredentialRequest(
        id=credential_id,
        secret=CredentialSecret(api_key=ApiKeySecret(key=secret)),
        skip_verification=True,
    )
    await CredentialServiceStub(service.channel).rotate_credential(request, metadata=service.auth())
    expected[credential_id] = secret


@dataclass
class Traffic:
    """Creates and rotations through gRPC, one after another, until stopped."""

    service: RunningService
    expected: dict[str, str]
    ids: list[str]
    requests: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while not self.stop.is_set():
            if self.requests % 4 == 0:
                await _create(self.service, self.expected)
            else:
                await _rotate(self.service, secrets.choice(self.ids), self.expected)
            self.requests += 1
            await asyncio.sleep(0.002)


async def _rewrap_during(traffic: Traffic, env: dict[str, str]) -> tuple[int, str, int]:
    """Runs `keys rewrap`; returns its exit code, its stdout, and the requests served while
    it moved rows (between its first and its last progress line)."""
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "keys",
        "rewrap",
        "--batch-size",
        "5",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    progress: list[tuple[str, int]] = []
    async with asyncio.timeout(60):
        while line := (await process.stderr.readline()).decode():
            if line.startswith("rewrap:"):
                progress.append((line.strip(), traffic.requests))
        stdout = (await process.stdout.read()).decode()
        code = await process.wait()
    assert len(progress) > 2, progress
    return code, stdout, progress[-1][1] - progress[0][1]


async def _all_decrypt(pool: ConnectionPool, keyring: Keyring, expected: dict[str, str]) -> None:
    assert decrypted_secrets(Envelope(keyring), await stored_rows(pool)) == expected


async def _connect_oauth(providers: OAuthProviders, dsn: str, key: str) -> dict[str, str]:
    """A Google and a GitHub connection sealed under `key`: connection id → access token."""
    tokens: dict[str, str] = {}
    async with providers.service(dsn, crypto_key=key) as world:
        for provider in ("google", "github"):
            connection_id = await world.connect(provider, f"runbook-{provider}")
            tokens[connection_id] = await access_token(world, connection_id)
    return tokens


async def _assert_oauth_works(
    providers: OAuthProviders, dsn: str, key: str, tokens: dict[str, str]
) -> None:
    """Every connection gives its access token, and a refresh opens the refresh token."""
    google_id, github_id = tokens
    await expire_in(dsn, github_id, -60)
    async with providers.service(dsn, crypto_key=key) as world:
        await _assert_serving(world.service)
        assert await access_token(world, google_id) == tokens[google_id]
        refreshed = await access_token(world, github_id)
        assert refreshed != tokens[github_id]
        assert providers.github.live_token(refreshed) is not None


async def test_rotation_runbook_with_the_service_serving_throughout(
    tmp_path: Path, empty_database_dsn: str, pool: ConnectionPool
) -> None:
    async with oauth_providers() as providers:
        await _runbook(providers, tmp_path, empty_database_dsn, pool)


async def _runbook(
    providers: OAuthProviders, tmp_path: Path, empty_database_dsn: str, pool: ConnectionPool
) -> None:
    old, new = generate_key(), generate_key()
    old_id, new_id = (Keyring.from_settings(key).primary_key_id for key in (old, new))
    expected: dict[str, str] = {}
    async with running_service(empty_database_dsn, crypto_key=old) as service:
        await _assert_serving(service)
        ids = [await _create(service, expected) for _ in range(10)]
    oauth_tokens = await _connect_oauth(providers, empty_database_dsn, old)
    # Many rows, so that the rewrap takes long enough for the traffic to interleave with it.
    sealed = await seal_credentials(
        pool,
        Envelope(Keyring.from_settings(old)),
        150,
        Tenant(DEFAULT_ORGANIZATION, DEFAULT_PROJECT),
    )
    expected |= sealed
    ids += sealed
    await _all_decrypt(pool, Keyring.from_settings(old), expected)

    # 1. Add the new key as decrypt-only everywhere: the old key still encrypts.
    async with running_service(
        empty_database_dsn, crypto_key=old, crypto_decrypt_only_keys=new
    ) as service:
        await _assert_serving(service)
        await _create(service, expected)
    status = await run_cli(
        cli_environment(tmp_path, empty_database_dsn, old, new), "keys", "status"
    )
    assert status_table(status.stdout) == {old_id: ("primary", 163), new_id: ("decrypt-only", 0)}
    assert status_by_store(status.stdout)[old_id]["oauth-tokens"] == 2
    await _all_decrypt(pool, Keyring.from_settings(old, new), expected)

    # 2. Promote it: the new key encrypts, the old one only decrypts.  3. Rewrap while serving.
    rotating_env = cli_environment(tmp_path, empty_database_dsn, new, old)
    async with running_service(
        empty_database_dsn, crypto_key=new, crypto_decrypt_only_keys=old
    ) as service:
        await _assert_serving(service)
        await _all_decrypt(pool, Keyring.from_settings(new, old), expected)
        traffic = Traffic(service, expected, ids)
        running = asyncio.create_task(traffic.run())
        code, stdout, served_meanwhile = await _rewrap_during(traffic, rotating_env)
        traffic.stop.set()
        await running
        assert served_meanwhile > 0
        assert code == 0, stdout
        assert stdout.splitlines()[0].endswith("rows, 0 left on other keys")
        await _all_decrypt(pool, Keyring.from_settings(new, old), expected)

    # 4. Prove no row is left on the old key.
    status = await run_cli(rotating_env, "keys", "status")
    assert status.code == 0
    table = status_table(status.stdout)
    assert table[old_id] == ("decrypt-only", 0)
    assert table[new_id] == ("primary", len(expected) + len(oauth_tokens))
    assert status_by_store(status.stdout)[new_id] == {
        "credentials": len(expected),
        "oauth-tokens": len(oauth_tokens),
        "oauth-states": 0,
        "oauth-pending": 0,
        "agent-tokens": 0,
    }

    # 5. Retire the old key: the new one alone decrypts everything, and the service serves.
    await _all_decrypt(pool, Keyring.from_settings(new), expected)
    async with running_service(empty_database_dsn, crypto_key=new) as service:
        await _assert_serving(service)
        await _create(service, expected)
    retired = await run_cli(cli_environment(tmp_path, empty_database_dsn, new), "keys", "status")
    assert (retired.code, status_table(retired.stdout)) == (
        0,
        {new_id: ("primary", len(expected) + len(oauth_tokens))},
    )
    await _all_decrypt(pool, Keyring.from_settings(new), expected)
    await _assert_oauth_works(providers, empty_database_dsn, new, oauth_tokens)
