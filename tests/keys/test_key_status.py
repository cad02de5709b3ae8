"""Key status: credentials per key id, each marked primary, decrypt-only or missing."""

from __future__ import annotations

from integration_api.cli.key_reports import format_status
from integration_api.credentials.key_status import (
    ROLE_DECRYPT_ONLY,
    ROLE_MISSING,
    ROLE_PRIMARY,
    KeyUsage,
    key_status,
)
from integration_api.store.database import ConnectionPool
from integration_api.vault import Envelope, Keyring, generate_key
from tests.keys.support import seal_credentials

OLD, NEW, SPARE, LOST = (generate_key() for _ in range(4))


def key_id_of(key: str) -> str:
    return Keyring.from_settings(key).primary_key_id


async def test_status_counts_every_key_held_and_names_keys_the_keyring_lacks(
    pool: ConnectionPool,
) -> None:
    await seal_credentials(pool, Envelope(Keyring.from_settings(OLD)), 3)
    await seal_credentials(pool, Envelope(Keyring.from_settings(NEW)), 2)
    await seal_credentials(pool, Envelope(Keyring.from_settings(LOST)), 1)
    status = await key_status(pool, Keyring.from_settings(NEW, f"{OLD},{SPARE}"))
    assert status.keys == (
        KeyUsage(key_id_of(NEW), ROLE_PRIMARY, (2, 0, 0, 0, 0)),
        KeyUsage(key_id_of(OLD), ROLE_DECRYPT_ONLY, (3, 0, 0, 0, 0)),
        KeyUsage(key_id_of(SPARE), ROLE_DECRYPT_ONLY, (0, 0, 0, 0, 0)),
        KeyUsage(key_id_of(LOST), ROLE_MISSING, (1, 0, 0, 0, 0)),
    )
    assert (status.total, status.off_primary) == (6, 4)
    assert status.missing_key_ids == (key_id_of(LOST),)
    assert status.retirable_key_ids == (key_id_of(SPARE),)
    assert key_id_of(LOST) in format_status(status).splitlines()[-1]


async def test_status_of_an_empty_database_lists_the_keyring(pool: ConnectionPool) -> None:
    status = await key_status(pool, Keyring.from_settings(NEW, OLD))
    assert status.keys == (
        KeyUsage(key_id_of(NEW), ROLE_PRIMARY, (0, 0, 0, 0, 0)),
        KeyUsage(key_id_of(OLD), ROLE_DECRYPT_ONLY, (0, 0, 0, 0, 0)),
    )
    assert status.primary_key_id == key_id_of(NEW)
    assert status.retirable_key_ids == (key_id_of(OLD),)


async def test_rendered_table_shows_no_key_material(pool: ConnectionPool) -> None:
    await seal_credentials(pool, Envelope(Keyring.from_settings(OLD)), 1)
    text = format_status(await key_status(pool, Keyring.from_settings(NEW, OLD)))
    assert NEW not in text and OLD not in text
    assert text.splitlines()[0].split() == [
        "KEY",
        "ID",
        "ROLE",
        "CREDENTIALS",
        "OAUTH-TOKENS",
        "OAUTH-STATES",
        "OAUTH-PENDING",
        "AGENT-TOKENS",
        "TOTAL",
    ]
