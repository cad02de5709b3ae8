"""Tenant-scoped access to stored credentials.

Every statement here filters on the tenant (organization and project), so another tenant's
credential id behaves exactly like an id that does not exist. Every change writes its audit event
in the same transaction: the change and its record commit together or not at all.

`version` starts at 1 and grows by one with every change a person makes (metadata, secret,
status), which is what `expected_version` compares against. Recording a health check does not
change it: a background check must not make a person's concurrent edit fail. A check may name
the version it checked so that its result is dropped (Aborted) when the secret changed meanwhile.
Key rotation (`CredentialKeyRepository.swap_ciphertext`) leaves it alone for the same reason.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import asyncpg

from integration_api.errors import Aborted, InvalidArgument
from integration_api.principal import Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.credential_rows import (
    credential_from_record,
    credential_not_found,
    duplicate_credential,
    parse_credential_id,
    require_status,
)
from integration_api.store.models import AuditEvent, CredentialRow, HealthCheckRecord, NewCredential
from integration_api.store.notifications import notify_credential_changed
from integration_api.store.pagination import (
    PageTokens,
    keyset_after,
    page_size_or_default,
    query_scope,
)
from integration_api.store.routes import refuse_if_routed

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool, DatabaseConnection

# Another row written in the same transaction as a credential change (a gated rotation marking
# itself confirmed as the secret is swapped). It runs after the credential's statement and
# before any audit event is appended: row locks first, the audit chain lock last, everywhere.
# It returns the audit events describing its writes, appended after the credential's own.
LinkedWrite = Callable[["DatabaseConnection"], Awaitable[list[AuditEvent]]]

# Every statement that changes one credential takes the same first four parameters: the row
# ($1), its tenant ($2, $3) and the version the caller last saw ($4, NULL when it does not care).

_INSERT = """
INSERT INTO credentials (id, organization_id, project_id, provider, name, config, ciphertext,
    key_id, secret_hint, fingerprint, status, status_reason, created_by, secret_kind)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
RETURNING *"""

_UPDATE_METADATA = """
UPDATE credentials SET name = COALESCE($5, name), config = COALESCE($6::jsonb, config),
    version = version + 1, updated_at = now()
WHERE id = $1 AND organization_id = $2 AND project_id = $3 AND ($4::integer IS NULL OR version = $4)
RETURNING *"""

# A new secret makes the last check meaningless: it was made with the old one.
_REPLACE_SECRET = """
UPDATE credentials SET ciphertext = $5, key_id = $6, secret_hint = $7, fingerprint = $8,
    rotated_by = $9, rotated_at = now(), status = $10, status_reason = $11,
    secret_kind = COALESCE($12, secret_kind), config = COALESCE($13::jsonb, config),
    last_check_at = NULL, last_check_outcome = NULL, last_check_latency_ms = NULL,
    last_check_message = '', version = version + 1, updated_at = now()
WHERE id = $1 AND organization_id = $2 AND project_id = $3 AND ($4::integer IS NULL OR version = $4)
RETURNING *"""

_SET_STATUS = """
UPDATE credentials SET status = $5, status_reason = $6, version = version + 1, updated_at = now()
WHERE id = $1 AND organization_id = $2 AND project_id = $3 AND ($4::integer IS NULL OR version = $4)
RETURNING *"""

_RECORD_CHECK = """
UPDATE credentials SET last_check_at = $5, last_check_outcome = $6, last_check_latency_ms = $7,
    last_check_message = $8,
    status = COALESCE($9, status),
    status_reason = CASE WHEN $9::text IS NULL THEN status_reason ELSE $10 END,
    updated_at = CASE WHEN $9::text IS NULL OR $9 = status THEN updated_at ELSE now() END
WHERE id = $1 AND organization_id = $2 AND project_id = $3 AND ($4::integer IS NULL OR version = $4)
RETURNING *"""

_DELETE = """
DELETE FROM credentials
WHERE id = $1 AND organization_id = $2 AND project_id = $3 AND ($4::integer IS NULL OR version = $4)
RETURNING id"""

_GET = "SELECT * FROM credentials WHERE id = $1 AND organization_id = $2 AND project_id = $3"

_CURRENT_VERSION = """
SELECT version FROM credentials WHERE id = $1 AND organization_id = $2 AND project_id = $3"""

_LIST = """
SELECT * FROM credentials
WHERE organization_id = $1 AND project_id = $2
  AND ($3::text IS NULL OR provider = $3)
  AND ($4::text IS NULL OR status = $4)
  AND ($5::timestamptz IS NULL OR (created_at, id) > ($5, $6::uuid))
ORDER BY created_at, id
LIMIT $7"""


class CredentialRepository:
    def __init__(self, pool: ConnectionPool, audit_log: AuditLog | None = None) -> None:
        self._pool = pool
        self._audit = audit_log or AuditLog(pool)

    async def insert(self, credential: NewCredential, audit: AuditEvent) -> CredentialRow:
        """Store a new credential; AlreadyExists (field `name`) if the name is taken."""
        require_status(credential.status)
        _require_audit_tenant(credential.tenant, audit)
        credential_uuid = parse_credential_id(credential.id)
        if credential_uuid is None:
            raise InvalidArgument.for_field("id", "must be a UUID")
        tenant = credential.tenant
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                record = await connection.fetchrow(
                    _INSERT,
                    credential_uuid,
                    tenant.organization_id,
                    tenant.project_id,
                    credential.provider,
                    credential.name,
                    dict(credential.config),
                    credential.ciphertext,
                    credential.key_id,
                    credential.secret_hint,
                    credential.fingerprint,
                    credential.status,
                    credential.status_reason,
                    credential.created_by,
                    credential.secret_kind,
                )
                await self._audit.append(connection, audit)
        except asyncpg.UniqueViolationError as error:
            raise duplicate_credential(error) from None
        return credential_from_record(_present(record))

    async def get(self, tenant: Tenant, credential_id: str) -> CredentialRow:
        credential_uuid = parse_credential_id(credential_id)
        if credential_uuid is None:
            raise credential_not_found(None)
        async with self._pool.acquire() as connection:
            record = await connection.fetchrow(
                _GET,
                credential_uuid,
                tenant.organization_id,
                tenant.project_id,
            )
        if record is None:
            raise credential_not_found(credential_uuid)
        return credential_from_record(record)

    async def list(
        self,
        tenant: Tenant,
        *,
        provider: str | None = None,
        status: str | None = None,
        page_size: int = 0,
        page_token: str | None = None,
        tokens: PageTokens,
    ) -> tuple[builtins.list[CredentialRow], str]:
        """One page in creation order; the next token is "" after the last page."""
        if status:
            require_status(status)
        limit = page_size_or_default(page_size)
        scope = query_scope(
            "credentials",
            tenant.organization_id,
            tenant.project_id,
            provider or None,
            status or None,
        )
        after_time, after_id = (
            keyset_after(tokens.decode(page_token, scope)) if page_token else (None, None)
        )
        async with self._pool.acquire() as connection:
            records = await connection.fetch(
                _LIST,
                tenant.organization_id,
                tenant.project_id,
                provider or None,
                status or None,
                after_time,
                after_id,
                limit + 1,
            )
        rows = [credential_from_record(record) for record in records[:limit]]
        if len(records) <= limit:
            return rows, ""
        last = rows[-1]
        return rows, tokens.encode([last.created_at.isoformat(), last.id], scope)

    async def update_metadata(
        self,
        tenant: Tenant,
        credential_id: str,
        *,
        expected_version: int | None,
        name: str | None = None,
        config: dict[str, Any] | None = None,
        audit: AuditEvent,
    ) -> CredentialRow:
        """Rename and/or replace the config; Aborted if `expected_version` is not current."""
        arguments = (name, dict(config) if config is not None else None)
        record = await self._change(
            tenant, credential_id, expected_version, audit, _UPDATE_METADATA, arguments
        )
        return credential_from_record(record)

    async def replace_secret(
        self,
        tenant: Tenant,
        credential_id: str,
        *,
        expected_version: int | None,
        ciphertext: bytes,
        key_id: str,
        secret_hint: str,
        fingerprint: str,
        rotated_by: str,
        status: str,
        status_reason: str = "",
        secret_kind: str | None = None,
        config: dict[str, Any] | None = None,
        audit: AuditEvent,
        linked: LinkedWrite | None = None,
    ) -> CredentialRow:
        """Swap in a new secret (and config, when given) in one statement: readers see the old
        or the new, never a mix. `linked` commits with the swap or not at all."""
        require_status(status)
        arguments = (
            ciphertext,
            key_id,
            secret_hint,
            fingerprint,
            rotated_by,
            status,
            status_reason,
            secret_kind,
            dict(config) if config is not None else None,
        )
        record = await self._change(
            tenant, credential_id, expected_version, audit, _REPLACE_SECRET, arguments, linked
        )
        return credential_from_record(record)

    async def set_status(
        self,
        tenant: Tenant,
        credential_id: str,
        *,
        status: str,
        reason: str = "",
        audit: AuditEvent,
        expected_version: int | None = None,
    ) -> CredentialRow:
        require_status(status)
        record = await self._change(
            tenant, credential_id, expected_version, audit, _SET_STATUS, (status, reason)
        )
        return credential_from_record(record)

    async def record_check(
        self,
        tenant: Tenant,
        credential_id: str,
        check: HealthCheckRecord,
        *,
        new_status: str | None = None,
        status_reason: str = "",
        expected_version: int | None = None,
        audit: AuditEvent | None = None,
    ) -> CredentialRow:
        """Store a check's outcome (and a status it implies) without bumping `version`; an
        on-demand check files `audit` with it."""
        if new_status is not None:
            require_status(new_status, "new_status")
        arguments = (
            check.checked_at,
            check.outcome,
            check.latency_ms,
            check.message,
            new_status,
            status_reason,
        )
        record = await self._change(
            tenant, credential_id, expected_version, audit, _RECORD_CHECK, arguments
        )
        return credential_from_record(record)

    async def delete(
        self,
        tenant: Tenant,
        credential_id: str,
        audit: AuditEvent,
        *,
        expected_version: int | None = None,
    ) -> None:
        """Remove the row for good (its audit events stay); NotFound if it is not there,
        FailedPrecondition (reason CREDENTIAL_IN_USE) while a route names it."""

        async def not_routed(connection: DatabaseConnection) -> list[AuditEvent]:
            # Routes hold the canonical form of the id, as the credential's row does.
            await refuse_if_routed(connection, tenant, str(parse_credential_id(credential_id)))
            return []

        await self._change(
            tenant, credential_id, expected_version, audit, _DELETE, (), linked=not_routed
        )

    async def _change(
        self,
        tenant: Tenant,
        credential_id: str,
        expected_version: int | None,
        audit: AuditEvent | None,
        statement: str,
        arguments: tuple[object, ...],
        linked: LinkedWrite | None = None,
    ) -> asyncpg.Record:
        """Run one statement on one credential (and `linked`) and file `audit` with it, in one
        transaction; every replica is told to drop its cached copy when it commits."""
        credential_uuid = parse_credential_id(credential_id)
        if credential_uuid is None:
            raise credential_not_found(None)
        if audit is not None:
            _require_audit_tenant(tenant, audit)
        key = (credential_uuid, tenant.organization_id, tenant.project_id, expected_version)
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                record = await connection.fetchrow(statement, *key, *arguments)
                if record is None:
                    raise await _missing_or_stale(
                        connection, tenant, credential_uuid, expected_version
                    )
                linked_events = await linked(connection) if linked is not None else []
                for event in ([audit] if audit is not None else []) + linked_events:
                    await self._audit.append(connection, event)
                await notify_credential_changed(connection, str(credential_uuid))
        except asyncpg.UniqueViolationError as error:
            raise duplicate_credential(error) from None
        return record


async def _missing_or_stale(
    connection: DatabaseConnection,
    tenant: Tenant,
    credential_uuid: uuid.UUID,
    expected_version: int | None,
) -> Exception:
    current_version = await connection.fetchval(
        _CURRENT_VERSION,
        credential_uuid,
        tenant.organization_id,
        tenant.project_id,
    )
    if current_version is None:
        return credential_not_found(credential_uuid)
    return Aborted(
        f"credential {credential_uuid} was changed concurrently: expected version "
        f"{expected_version}, current version {current_version}; read it again and retry",
        metadata={"current_version": str(current_version)},
    )


def _require_audit_tenant(tenant: Tenant, audit: AuditEvent) -> None:
    # An event filed under another tenant would hide the change from the tenant it concerns.
    if audit.tenant != tenant:
        raise ValueError("the audit event must belong to the tenant whose credential changes")


def _present(record: asyncpg.Record | None) -> asyncpg.Record:
    if record is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return record
