"""A check that fails for one credential is that credential's outcome, never the whole call's."""

from __future__ import annotations

import secrets

from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CheckOutcome,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    RunHealthCheckRequest,
)

from integration_api.ops.checker import BackgroundChecker
from tests.ops.support import Caller

# Stored before patterns matched whole values: a header value with a line break, which the HTTP
# client refuses to send, so every use of the credential raises.
BROKEN_VERSION = "2026-03-01\n"


async def _broken_cartesia(caller: Caller, organization: str) -> str:
    """A Cartesia credential whose stored version setting breaks every request it makes."""
    created = await caller.credentials.create_credential(
        CreateCredentialRequest(
            provider="cartesia",
            name="tts-" + secrets.token_hex(3),
            secret=CredentialSecret(api_key=ApiKeySecret(key="sk_car_" + secrets.token_hex(12))),
            config=CredentialConfig(
                base_url=caller.provider.url, extra={"cartesia_version": "2026-03-01"}
            ),
            skip_verification=True,
        ),
        metadata=caller.tenant(organization),
    )
    assert created.credential is not None
    await caller.service.app.runtime.database.pool.execute(
        "UPDATE credentials"
        " SET config = jsonb_set(config, '{extra,cartesia_version}', to_jsonb($2::text))"
        " WHERE id = $1::uuid",
        created.credential.id,
        BROKEN_VERSION,
    )
    return created.credential.id


async def test_run_health_check_of_all_answers_with_the_broken_credential_as_its_outcome(
    caller: Caller,
) -> None:
    organization = "org-" + secrets.token_hex(3)
    healthy, _ = await caller.stored(organization)
    broken = await _broken_cartesia(caller, organization)
    answer = await caller.operations.run_health_check(
        RunHealthCheckRequest(all=True), metadata=caller.tenant(organization)
    )
    outcomes = {result.credential_id: result.check for result in answer.results}
    assert outcomes[healthy.id] is not None and outcomes[healthy.id].outcome == CheckOutcome.VALID
    broken_check = outcomes[broken]
    assert broken_check is not None
    assert broken_check.outcome == CheckOutcome.UNREACHABLE
    assert broken_check.message.startswith("inconclusive: the check failed inside the service")


async def test_a_background_round_records_the_broken_credential_and_checks_the_others(
    caller: Caller,
) -> None:
    organization = "org-" + secrets.token_hex(3)
    healthy, _ = await caller.stored(organization)
    broken = await _broken_cartesia(caller, organization)
    runtime = caller.service.app.runtime
    assert runtime is not None
    pool = runtime.database.pool
    # The healthy one was checked when it was stored: make it due again.
    await pool.execute(
        "UPDATE credentials SET last_check_at = now() - interval '2 hours' WHERE id = $1::uuid",
        healthy.id,
    )
    checker = BackgroundChecker(runtime.database, runtime.operations.health, 3600, 0)
    assert await checker.run_round() >= 2
    recorded = await pool.fetch(
        "SELECT id::text, last_check_outcome, last_check_at > now() - interval '1 minute' AS fresh"
        " FROM credentials WHERE id = ANY($1::uuid[])",
        [healthy.id, broken],
    )
    assert {row["id"]: (row["last_check_outcome"], row["fresh"]) for row in recorded} == {
        healthy.id: ("valid", True),
        broken: ("unreachable", True),
    }
