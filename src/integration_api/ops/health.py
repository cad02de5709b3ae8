"""Credential health checks: unbilled verification probes, with bounded concurrency.

Each check decrypts the credential for one probe (the provider's verifier: the cheapest
authenticated call it offers, never a billed one) and records the outcome on the credential,
dropping it when the secret changed meanwhile. A check someone asked for is audited in the same
transaction as its record; background checks are not (they would drown the trail).

A check that raises for one credential (a stored setting its provider call cannot send, a secret
that no longer opens) is that credential's outcome: `unreachable`, "inconclusive: the check
failed inside the service (<error type>)", recorded like any other, so one broken row never
makes `RunHealthCheck {all: true}` or a background round fail for the others.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from integration_api.call_context import current_request_id
from integration_api.credentials.cache import CredentialCache
from integration_api.credentials.model import CredentialConfig
from integration_api.credentials.operations import CredentialOperations
from integration_api.credentials.sealing import open_secret
from integration_api.credentials.verification import VerificationResult
from integration_api.database import Database
from integration_api.errors import Aborted, NotFound, ServiceError
from integration_api.ops.metrics import CREDENTIAL_CHECKS
from integration_api.principal import Principal
from integration_api.store.credentials import CredentialRepository
from integration_api.store.models import AuditEvent, CredentialRow, HealthCheckRecord
from integration_api.vault import Envelope

log = structlog.get_logger("integration_api.health")


@dataclass(frozen=True)
class CheckedCredential:
    credential: CredentialRow
    check: HealthCheckRecord


class HealthChecks:
    def __init__(
        self,
        database: Database,
        envelope: Envelope,
        cache: CredentialCache,
        credential_ops: CredentialOperations,
        concurrency: int,
    ) -> None:
        self._database = database
        self._envelope = envelope
        self._cache = cache
        self._credential_ops = credential_ops
        # Shared by on-demand and background checks: one replica never probes more at once.
        self._slots = asyncio.Semaphore(concurrency)

    async def check_all(
        self, rows: list[CredentialRow], requested_by: Principal | None
    ) -> list[CheckedCredential]:
        """Checks every row (at most `concurrency` at a time), in the order given; rows that
        disappeared or changed meanwhile are left out."""
        results = await asyncio.gather(*(self._guarded(row, requested_by) for row in rows))
        return [result for result in results if result is not None]

    async def _guarded(
        self, row: CredentialRow, requested_by: Principal | None
    ) -> CheckedCredential | None:
        async with self._slots:
            try:
                return await self.check_one(row, requested_by)
            except (Aborted, NotFound):
                # Rotated or deleted while we probed: the old secret's verdict means nothing.
                return None

    async def check_one(
        self, row: CredentialRow, requested_by: Principal | None
    ) -> CheckedCredential:
        result = await self._probe(row)
        check = HealthCheckRecord(
            checked_at=datetime.now(UTC),
            outcome=result.outcome,
            latency_ms=result.latency_ms,
            message=result.message,
        )
        new_status = "active" if result.outcome == "valid" and row.status == "unverified" else None
        audit = _check_event(requested_by, row, check) if requested_by is not None else None
        updated = await CredentialRepository(self._database.pool).record_check(
            row.tenant,
            row.id,
            check,
            new_status=new_status,
            expected_version=row.version,
            audit=audit,
        )
        await self._cache.invalidate(row.id)
        CREDENTIAL_CHECKS.labels(row.provider, result.outcome).inc()
        return CheckedCredential(updated, check)

    async def _probe(self, row: CredentialRow) -> VerificationResult:
        """The provider's verdict on the stored credential, or why none could be had."""
        try:
            secret = open_secret(self._envelope, row)
            config = CredentialConfig.from_json(row.config)
            return await self._credential_ops.verify_secret(row.id, row.provider, config, secret)
        except Exception as error:  # noqa: BLE001 - one credential's failure is its outcome
            # The type only: an exception's text may quote what was being sent.
            error_type = type(error).__name__
            log.warning("credential check failed", credential_id=row.id, error_type=error_type)
            said = error.message if isinstance(error, ServiceError) else error_type
            message = f"inconclusive: the check failed inside the service ({said})"
            return VerificationResult("unreachable", 0, message)


def _check_event(principal: Principal, row: CredentialRow, check: HealthCheckRecord) -> AuditEvent:
    return AuditEvent(
        actor=principal.actor,
        tenant=row.tenant,
        action="credential.health_check",
        target_type="credential",
        target_id=row.id,
        request_id=current_request_id(),
        details={"provider": row.provider, "check_outcome": check.outcome},
    )
