"""Rewrapping stored credentials onto the primary key: complete, resumable, idempotent, and
never overwriting a secret replaced while it ran."""

from __future__ import annotations

import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CredentialSecret,
    RotateCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.credentials.model import ApiKey, to_plaintext
from integration_api.credentials.rewrap import (
    MISSING_KEY,
    UNDECRYPTABLE,
    rewrap_all,
    rewrap_rows,
)
from integration_api.principal import Tenant
from integration_api.store.database import ConnectionPool
from integration_api.store.sealed import CREDENTIALS, SealedValueRepository
from integration_api.vault import Envelope, Keyring, generate_key
from tests.keys.support import decrypted_secrets, new_secret, seal_credentials, stored_rows
from tests.support.credential_keys import CredentialKeyRepository
from tests.support.service import running_service

OLD, NEW, LOST = generate_key(), generate_key(), generate_key()


def envelope_of(primary: str, decrypt_only: str = "") -> Envelope:
    return Envelope(Keyring.from_settings(primary, decrypt_only))


ROTATING = envelope_of(NEW, OLD)
ONLY_NEW = envelope_of(NEW)


async def test_rewrap_moves_every_row_to_the_primary_and_recomputes_fingerprints(
    pool: ConnectionPool,
) -> None:
    on_old = await seal_credentials(pool, envelope_of(OLD), 7)
    on_new = await seal_credentials(pool, ONLY_NEW, 2)
    before = await stored_rows(pool)
    seen: list[tuple[int, int]] = []
    report = await rewrap_all(pool, ROTATING, batch_size=3, progress=lambda *p: seen.append(p))
    assert (report.rewrapped, report.left_on_other_keys, report.failures) == (7, 0, ())
    assert report.complete
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7)]
    after = await stored_rows(pool)
    assert decrypted_secrets(ONLY_NEW, after) == on_old | on_new
    primary = ONLY_NEW.keyring.primary_key_id
    for credential_id, secret in (on_old | on_new).items():
        row = after[credential_id]
        assert (row.key_id, ONLY_NEW.key_id_of(row.ciphertext)) == (primary, primary)
        assert row.fingerprint == ONLY_NEW.keyring.secret_fingerprint(to_plaintext(ApiKey(secret)))
        assert row.version == before[credential_id].version
    for credential_id in on_old:
        assert after[credential_id].fingerprint != before[credential_id].fingerprint
    for credential_id in on_new:
        assert after[credential_id].ciphertext == before[credential_id].ciphertext


async def test_a_second_run_rewraps_nothing_and_changes_no_row(pool: ConnectionPool) -> None:
    await seal_credentials(pool, envelope_of(OLD), 5)
    first = await rewrap_all(pool, ROTATING, batch_size=2)
    after_first = await stored_rows(pool)
    second = await rewrap_all(pool, ROTATING, batch_size=2)
    assert (first.rewrapped, second.rewrapped, second.left_on_other_keys) == (5, 0, 0)
    assert await stored_rows(pool) == after_first


async def test_a_run_stopped_after_one_batch_leaves_every_row_readable_and_a_rerun_finishes(
    pool: ConnectionPool,
) -> None:
    expected = await seal_credentials(pool, envelope_of(OLD), 10)

    def crash_after_first_batch(done: int, _total: int) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await rewrap_all(pool, ROTATING, batch_size=4, progress=crash_after_first_batch)
    counts = await CredentialKeyRepository(pool).count_by_key_id()
    assert counts == {
        ONLY_NEW.keyring.primary_key_id: 4,
        envelope_of(OLD).keyring.primary_key_id: 6,
    }
    assert decrypted_secrets(ROTATING, await stored_rows(pool)) == expected
    report = await rewrap_all(pool, ROTATING, batch_size=4)
    assert (report.rewrapped, report.left_on_other_keys) == (6, 0)
    assert decrypted_secrets(ONLY_NEW, await stored_rows(pool)) == expected


async def test_max_rows_stops_early_and_the_next_run_continues(pool: ConnectionPool) -> None:
    expected = await seal_credentials(pool, envelope_of(OLD), 9)
    first = await rewrap_all(pool, ROTATING, batch_size=4, max_rows=5)
    assert (first.rewrapped, first.left_on_other_keys, first.complete) == (5, 4, False)
    second = await rewrap_all(pool, ROTATING, batch_size=4)
    assert (second.rewrapped, second.left_on_other_keys, second.complete) == (4, 0, True)
    assert decrypted_secrets(ONLY_NEW, await stored_rows(pool)) == expected


async def test_a_secret_rotated_while_its_row_is_rewrapped_wins_and_is_picked_up_again(
    pool: ConnectionPool, empty_database_dsn: str
) -> None:
    tenant = Tenant("org-rotation", "project-rotation")
    expected = await seal_credentials(pool, envelope_of(OLD), 3, tenant)
    candidates = await SealedValueRepository(pool).rows_not_on_key(
        CREDENTIALS, ROTATING.keyring.primary_key_id
    )
    rotated_id = candidates[1].row_id
    # A replica not yet promoted rotates the secret after the rewrap read the row: the new
    # secret lands under the old key again.
    async with running_service(empty_database_dsn, crypto_key=OLD) as replica:
        expected[rotated_id] = new_secret()
        request = RotateCredentialRequest(
            id=rotated_id,
            secret=CredentialSecret(api_key=ApiKeySecret(key=expected[rotated_id])),
            skip_verification=True,
        )
        auth = replica.auth(organization_id=tenant.organization_id, project_id=tenant.project_id)
        await CredentialServiceStub(replica.channel).rotate_credential(request, metadata=auth)
    batch = await rewrap_rows(pool, ROTATING, candidates)
    assert (batch.rewrapped, batch.conflicts, batch.failures) == ({"credentials": 2}, 1, [])
    assert decrypted_secrets(ROTATING, await stored_rows(pool)) == expected
    report = await rewrap_all(pool, ROTATING)
    assert (report.rewrapped, report.left_on_other_keys) == (1, 0)
    assert decrypted_secrets(ONLY_NEW, await stored_rows(pool)) == expected


async def test_rows_under_a_key_the_keyring_lacks_are_named_and_left_alone(
    pool: ConnectionPool,
) -> None:
    lost = await seal_credentials(pool, envelope_of(LOST), 3)
    movable = await seal_credentials(pool, envelope_of(OLD), 4)
    before = await stored_rows(pool)
    report = await rewrap_all(pool, ROTATING, batch_size=2)
    lost_key_id = envelope_of(LOST).keyring.primary_key_id
    assert (report.rewrapped, report.left_on_other_keys, report.complete) == (4, 3, False)
    assert report.missing_key_ids == (lost_key_id,)
    assert {(f.store, f.row_id, f.key_id, f.reason) for f in report.failures} == {
        ("credentials", credential_id, lost_key_id, MISSING_KEY) for credential_id in lost
    }
    after = await stored_rows(pool)
    assert {i: after[i] for i in lost} == {i: before[i] for i in lost}
    assert decrypted_secrets(ONLY_NEW, {i: after[i] for i in movable}) == movable


async def test_a_row_that_does_not_decrypt_is_named_and_left_alone(pool: ConnectionPool) -> None:
    expected = await seal_credentials(pool, envelope_of(OLD), 3)
    damaged_id = next(iter(expected))
    await pool.execute(
        "UPDATE credentials SET ciphertext = set_byte(ciphertext, length(ciphertext) - 1, "
        "get_byte(ciphertext, length(ciphertext) - 1) # 1) WHERE id = $1",
        damaged_id,
    )
    damaged = (await stored_rows(pool))[damaged_id]
    report = await rewrap_all(pool, ROTATING)
    assert (report.rewrapped, report.left_on_other_keys) == (2, 1)
    [failure] = report.failures
    assert (failure.row_id, failure.reason) == (damaged_id, UNDECRYPTABLE)
    assert failure.describe() == f"credential {damaged_id}: stored secret does not decrypt"
    assert (await stored_rows(pool))[damaged_id] == damaged


async def test_batch_size_must_be_positive(pool: ConnectionPool) -> None:
    with pytest.raises(ValueError, match="batch size"):
        await rewrap_all(pool, ROTATING, batch_size=0)
