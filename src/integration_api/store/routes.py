"""Tenant-scoped access to stored routes.

Every statement filters on the tenant, so another tenant's route id behaves exactly like an id
that does not exist. Every change writes its audit event in the same transaction, and tells every
replica (LISTEN/NOTIFY, on commit) to drop its cached copy of the route.

A route names only its tenant's credentials: a write checks every target's credential in its own
transaction and holds those rows (FOR KEY SHARE) until it commits, so a credential deleted at the
same moment cannot slip into a route unnoticed.
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

import asyncpg

from integration_api.errors import Aborted, FailedPrecondition, NotFound
from integration_api.principal import Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.credential_rows import CREDENTIAL_NOT_FOUND, parse_credential_id
from integration_api.store.models import AuditEvent
from integration_api.store.notifications import notify_credential_changed
from integration_api.store.pagination import PageTokens, invalid_page_token, query_scope
from integration_api.store.route_rows import (
    RouteFields,
    RouteRow,
    duplicate_route,
    parse_route_id,
    route_from_record,
    route_not_found,
)

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool, DatabaseConnection

_INSERT = """
INSERT INTO routes (id, organization_id, project_id, name, policy, targets, first_token_timeout,
    created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING *"""

_UPDATE = """
UPDATE routes SET name = $5, policy = $6, targets = $7, first_token_timeout = $8,
    version = version + 1, updated_at = now()
WHERE id = $1 AND organization_id = $2 AND project_id = $3 AND ($4::bigint IS NULL OR version = $4)
RETURNING *"""

_DELETE = """
DELETE FROM routes WHERE id = $1 AND organization_id = $2 AND project_id = $3 RETURNING id"""

_GET = "SELECT * FROM routes WHERE id = $1 AND organization_id = $2 AND project_id = $3"

_CURRENT_VERSION = """
SELECT version FROM routes WHERE id = $1 AND organization_id = $2 AND project_id = $3"""

_LIST = """
SELECT * FROM routes
WHERE organization_id = $1 AND project_id = $2 AND ($3::text IS NULL OR name > $3)
ORDER BY name
LIMIT $4"""

# The tenant's routes naming one credential: the tenant's rows are found by the name index and
# their targets read one by one, which is cheap (a tenant has few routes) and runs only when a
# credential is deleted.
_NAMING_CREDENTIAL = """
SELECT name FROM routes
WHERE organization_id = $1 AND project_id = $2
  AND targets @> jsonb_build_array(jsonb_build_object('credential_id', $3::text))
ORDER BY name
LIMIT 4"""
CREDENTIAL_IN_USE = "CREDENTIAL_IN_USE"

# The tenant's credentials among the given ids, held until the route's write commits.
_OWN_CREDENTIALS = """
SELECT id FROM credentials
WHERE organization_id = $1 AND project_id = $2 AND id = ANY($3::uuid[])
FOR KEY SHARE"""


class RouteRepository:
    def __init__(self, pool: ConnectionPool, audit_log: AuditLog | None = None) -> None:
        self._pool = pool
        self._audit = audit_log or AuditLog(pool)

    async def insert(
        self, tenant: Tenant, route_id: str, fields: RouteFields, created_by: str, audit: AuditEvent
    ) -> RouteRow:
        """Store a new route; AlreadyExists (field `name`) if the name is taken, NotFound on the
        first target whose credential is not the tenant's."""
        _require_audit_tenant(tenant, audit)
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                fields = await _require_own_credentials(connection, tenant, fields)
                record = await connection.fetchrow(
                    _INSERT,
                    uuid.UUID(route_id),
                    tenant.organization_id,
                    tenant.project_id,
                    *_field_values(fields),
                    created_by,
                )
                await self._audit.append(connection, audit)
        except asyncpg.UniqueViolationError as error:
            raise duplicate_route(error) from None
        if record is None:
            raise RuntimeError("INSERT ... RETURNING returned no row")
        return route_from_record(record)

    async def get(self, tenant: Tenant, route_id: str) -> RouteRow:
        route_uuid = parse_route_id(route_id)
        if route_uuid is None:
            raise route_not_found(None)
        async with self._pool.acquire() as connection:
            record = await connection.fetchrow(
                _GET, route_uuid, tenant.organization_id, tenant.project_id
            )
        if record is None:
            raise route_not_found(route_uuid)
        return route_from_record(record)

    async def list(
        self, tenant: Tenant, *, page_size: int, page_token: str | None, tokens: PageTokens
    ) -> tuple[builtins.list[RouteRow], str]:
        """One page by name; the next token is "" after the last page. Names are unique within a
        tenant, so the last name of a page is the whole keyset position."""
        scope = query_scope("routes", tenant.organization_id, tenant.project_id)
        after_name = _name_after(tokens.decode(page_token, scope)) if page_token else None
        async with self._pool.acquire() as connection:
            records = await connection.fetch(
                _LIST, tenant.organization_id, tenant.project_id, after_name, page_size + 1
            )
        rows = [route_from_record(record) for record in records[:page_size]]
        if len(records) <= page_size:
            return rows, ""
        return rows, tokens.encode([rows[-1].fields.name], scope)

    async def update(
        self,
        tenant: Tenant,
        route_id: str,
        fields: RouteFields,
        *,
        expected_version: int | None,
        audit: AuditEvent,
    ) -> RouteRow:
        """Replace the route's fields; Aborted if `expected_version` is not current."""
        _require_audit_tenant(tenant, audit)
        route_uuid = parse_route_id(route_id)
        if route_uuid is None:
            raise route_not_found(None)
        key = (route_uuid, tenant.organization_id, tenant.project_id)
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                fields = await _require_own_credentials(connection, tenant, fields)
                record = await connection.fetchrow(
                    _UPDATE, *key, expected_version, *_field_values(fields)
                )
                if record is None:
                    raise await _missing_or_stale(connection, tenant, route_uuid, expected_version)
                await self._audit.append(connection, audit)
                await notify_credential_changed(connection, str(route_uuid))
        except asyncpg.UniqueViolationError as error:
            raise duplicate_route(error) from None
        return route_from_record(record)

    async def delete(self, tenant: Tenant, route_id: str, audit: AuditEvent) -> None:
        """Remove the route for good (its audit events stay); NotFound if it is not there."""
        _require_audit_tenant(tenant, audit)
        route_uuid = parse_route_id(route_id)
        if route_uuid is None:
            raise route_not_found(None)
        async with self._pool.acquire() as connection, connection.transaction():
            deleted = await connection.fetchval(
                _DELETE, route_uuid, tenant.organization_id, tenant.project_id
            )
            if deleted is None:
                raise route_not_found(route_uuid)
            await self._audit.append(connection, audit)
            await notify_credential_changed(connection, str(route_uuid))


async def refuse_if_routed(
    connection: DatabaseConnection, tenant: Tenant, credential_id: str
) -> None:
    """FailedPrecondition when any of the tenant's routes names the credential.

    Run after the credential's row is deleted, in the same transaction: the delete waits for a
    route write holding the row (FOR KEY SHARE) to commit, and this statement's snapshot then
    sees that route, so a route can never be left naming a credential that is gone.
    """
    records = await connection.fetch(
        _NAMING_CREDENTIAL, tenant.organization_id, tenant.project_id, credential_id
    )
    names = [record["name"] for record in records]
    if names:
        shown = ", ".join(repr(name) for name in names[:3])
        more = " and others" if len(names) > 3 else ""
        raise FailedPrecondition(
            f"the credential is a target of route {shown}{more}: remove it from the route "
            "first (or disable the credential instead)",
            reason=CREDENTIAL_IN_USE,
        )


def _field_values(fields: RouteFields) -> tuple[object, ...]:
    targets = [target.to_json() for target in fields.targets]
    return fields.name, fields.policy, targets, fields.first_token_timeout


async def _require_own_credentials(
    connection: DatabaseConnection, tenant: Tenant, fields: RouteFields
) -> RouteFields:
    """`fields` with each credential id in its canonical form (as the credential's row names
    it); NotFound on the first target whose credential is unknown or another tenant's. Both
    answer the same, so a route cannot be used to probe for other tenants' ids."""
    wanted = [parse_credential_id(target.credential_id) for target in fields.targets]
    ids = [credential_uuid for credential_uuid in wanted if credential_uuid is not None]
    records = await connection.fetch(
        _OWN_CREDENTIALS, tenant.organization_id, tenant.project_id, ids
    )
    found = {record["id"] for record in records}
    for index, credential_uuid in enumerate(wanted):
        if credential_uuid is None or credential_uuid not in found:
            field_path = f"targets[{index}].credential_id"
            raise NotFound(
                f"{field_path}: no credential with this id in this project",
                reason=CREDENTIAL_NOT_FOUND,
                metadata={"field": field_path},
            )
    targets = tuple(
        replace(target, credential_id=str(credential_uuid))
        for target, credential_uuid in zip(fields.targets, wanted, strict=True)
    )
    return replace(fields, targets=targets)


async def _missing_or_stale(
    connection: DatabaseConnection,
    tenant: Tenant,
    route_uuid: uuid.UUID,
    expected_version: int | None,
) -> Exception:
    current_version = await connection.fetchval(
        _CURRENT_VERSION, route_uuid, tenant.organization_id, tenant.project_id
    )
    if current_version is None:
        return route_not_found(route_uuid)
    return Aborted(
        f"route {route_uuid} was changed concurrently: expected version {expected_version}, "
        f"current version {current_version}; read it again and retry",
        metadata={"current_version": str(current_version)},
    )


def _name_after(position: builtins.list[str | int]) -> str:
    if len(position) != 1 or not isinstance(position[0], str) or not position[0]:
        raise invalid_page_token()
    return position[0]


def _require_audit_tenant(tenant: Tenant, audit: AuditEvent) -> None:
    # An event filed under another tenant would hide the change from the tenant it concerns.
    if audit.tenant != tenant:
        raise ValueError("the audit event must belong to the tenant whose route changes")
