"""OAuth tokens and pending authorizations follow the keyring: counted per key, rewrapped with
their own binding, still usable on the new key alone, and a key only they use is named by
readiness."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import ConnectionStatus

from integration_api.credentials.key_status import key_status
from integration_api.credentials.rewrap import rewrap_all, rewrap_rows
from integration_api.store.database import ConnectionPool
from integration_api.store.sealed import OAUTH_TOKENS, SealedValueRepository
from integration_api.vault import Envelope, Keyring, generate_key
from tests.keys.oauth_support import access_token, oauth_providers
from tests.keys.support import seal_credentials
from tests.oauth.database import expire_in
from tests.oauth.support import OAuthWorld, landed
from tests.support.health_client import check_status
from tests.support.service import RunningService

OLD, NEW, LOST = generate_key(), generate_key(), generate_key()
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def key_id_of(key: str) -> str:
    return Keyring.from_settings(key).primary_key_id


async def health_becomes(service: RunningService, wanted: int) -> None:
    for _attempt in range(50):
        if await check_status(service.channel) == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"health never became {wanted}")


async def test_oauth_rows_are_counted_rewrapped_and_work_with_the_new_key_alone(
    empty_database_dsn: str, pool: ConnectionPool
) -> None:
    async with oauth_providers() as providers:
        async with providers.service(empty_database_dsn, crypto_key=OLD) as world:
            google_id = await world.connect("google", "keys-google")
            github_id = await world.connect("github", "keys-github")
            google_token = await access_token(world, google_id)
            github_token = await access_token(world, github_id)
            pending = await world.start("google", "keys-pending")
            parked = await world.consent("github", "keys-parked")

        status = await key_status(pool, Keyring.from_settings(NEW, OLD))
        [on_old] = [usage for usage in status.keys if usage.key_id == key_id_of(OLD)]
        held = [
            on_old.rows_in(store) for store in ("oauth-tokens", "oauth-states", "oauth-pending")
        ]
        assert held == [2, 1, 1]
        assert (on_old.rows, status.off_primary) == (4, 4)

        report = await rewrap_all(pool, Envelope(Keyring.from_settings(NEW, OLD)))
        assert report.rewrapped_by_store == {
            "oauth-tokens": 2,
            "oauth-states": 1,
            "oauth-pending": 1,
        }
        assert report.complete
        in_use = await SealedValueRepository(pool).key_ids_in_use()
        assert {key: set(stores) for key, stores in in_use.items()} == {
            key_id_of(NEW): {"oauth-tokens", "oauth-states", "oauth-pending"}
        }

        await expire_in(empty_database_dsn, github_id, -60)
        async with providers.service(empty_database_dsn, crypto_key=NEW) as world:
            await health_becomes(world.service, SERVING)
            # The access token opens from the rewrapped row ...
            assert await access_token(world, google_id) == google_token
            # ... and so does the refresh token, which the provider accepts.
            refreshed = await access_token(world, github_id)
            assert refreshed != github_token
            assert providers.github.live_token(refreshed) is not None
            # The PKCE verifier of the pending authorization opens too: the flow completes.
            outcome = landed(await world.browse(pending.authorization_url))
            assert outcome.get("status") == "authorized", outcome
            assert (await world.complete(outcome["completion_code"])).id
            # ... and so do the tokens of a consented flow parked before the rewrap.
            assert (await world.complete(parked)).status == ConnectionStatus.ACTIVE


async def _connect(world: OAuthWorld) -> None:
    await world.connect("google", "keys-lost")


async def _start(world: OAuthWorld) -> None:
    await world.start("google", "keys-lost")


@pytest.mark.parametrize(
    ("leave_behind", "held_by"),
    [(_connect, "OAuth tokens"), (_start, "pending OAuth authorizations")],
    ids=["connection", "pending-authorization"],
)
async def test_readiness_names_a_key_id_only_an_oauth_row_uses(
    empty_database_dsn: str,
    pool: ConnectionPool,
    leave_behind: Callable[[OAuthWorld], Awaitable[None]],
    held_by: str,
) -> None:
    async with oauth_providers() as providers:
        async with providers.service(empty_database_dsn, crypto_key=LOST) as world:
            await leave_behind(world)
        await seal_credentials(pool, Envelope(Keyring.from_settings(NEW)), 1)
        async with providers.service(empty_database_dsn, crypto_key=NEW) as world:
            await health_becomes(world.service, NOT_SERVING)
            assert world.service.app.readiness is not None
            assert world.service.app.readiness.failures == {
                "keyring": f"the database holds {held_by} encrypted under key id(s) "
                f"{key_id_of(LOST)} that INTEGRATION_CRYPTO_KEY/INTEGRATION_CRYPTO_KEYS lack"
            }
        async with providers.service(
            empty_database_dsn, crypto_key=NEW, crypto_decrypt_only_keys=LOST
        ) as world:
            await health_becomes(world.service, SERVING)


async def test_a_token_refreshed_while_its_row_is_rewrapped_wins_and_is_picked_up_again(
    empty_database_dsn: str, pool: ConnectionPool
) -> None:
    rotating = Envelope(Keyring.from_settings(NEW, OLD))
    async with oauth_providers() as providers:
        async with providers.service(empty_database_dsn, crypto_key=OLD) as world:
            connection_id = await world.connect("github", "keys-refreshed")
            before = await access_token(world, connection_id)
            [read] = await SealedValueRepository(pool).rows_not_on_key(OAUTH_TOKENS, key_id_of(NEW))
            # A replica not yet promoted refreshes the token after the rewrap read the row.
            await expire_in(empty_database_dsn, connection_id, -60)
            refreshed = await access_token(world, connection_id)
        assert refreshed != before
        batch = await rewrap_rows(pool, rotating, [read])
        assert (batch.rewrapped, batch.conflicts, batch.failures) == ({}, 1, [])
        report = await rewrap_all(pool, rotating)
        assert (report.rewrapped_by_store, report.complete) == ({"oauth-tokens": 1}, True)
        async with providers.service(empty_database_dsn, crypto_key=NEW) as world:
            assert await access_token(world, connection_id) == refreshed
