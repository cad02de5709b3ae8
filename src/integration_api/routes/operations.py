"""The route lifecycle as domain operations, and the stored routes read for calls.

Every mutation is scoped to the caller's tenant and writes its audit event in the same
transaction (the repository does that); a route names only its tenant's credentials.
`route_for_use` is the `RouteSource` the routed pipelines read from.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from integration_api.call_context import current_request_id
from integration_api.database import Database
from integration_api.errors import FieldViolation, InvalidArgument
from integration_api.principal import Principal, Tenant
from integration_api.routes.cache import RouteCache
from integration_api.routes.model import Route, RoutePolicy, RouteTarget
from integration_api.routes.validation import RouteDraft, draft_violations, raise_if_any
from integration_api.store.credential_rows import parse_credential_id
from integration_api.store.models import AuditEvent, JsonValue
from integration_api.store.pagination import PageTokens
from integration_api.store.route_rows import RouteFields, RouteRow, StoredTarget
from integration_api.store.routes import RouteRepository
from integration_api.vault import Keyring

ALL_FIELDS = frozenset({"name", "policy", "targets", "first_token_timeout"})
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


class RouteOperations:
    def __init__(self, database: Database, keyring: Keyring, cache: RouteCache) -> None:
        self._database = database
        self._page_tokens = PageTokens(keyring)
        self._cache = cache

    def _repository(self) -> RouteRepository:
        return RouteRepository(self._database.pool)

    async def create(self, principal: Principal, draft: RouteDraft) -> Route:
        raise_if_any(draft_violations(draft, ALL_FIELDS))
        route_id = str(uuid.uuid4())
        fields = _fields_of(draft)
        row = await self._repository().insert(
            principal.tenant,
            route_id,
            fields,
            principal.actor,
            _event(principal, "route.create", route_id, fields),
        )
        return route_from_row(row)

    async def get(self, tenant: Tenant, route_id: str) -> Route:
        return route_from_row(await self._repository().get(tenant, route_id))

    async def list(
        self, tenant: Tenant, *, page_size: int, page_token: str
    ) -> tuple[list[Route], str]:
        if not 0 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidArgument.for_field("page_size", f"must be between 0 and {MAX_PAGE_SIZE}")
        rows, next_token = await self._repository().list(
            tenant,
            page_size=page_size or DEFAULT_PAGE_SIZE,
            page_token=page_token or None,
            tokens=self._page_tokens,
        )
        return [route_from_row(row) for row in rows], next_token

    async def update(
        self,
        principal: Principal,
        route_id: str,
        draft: RouteDraft,
        *,
        fields: frozenset[str],
        expected_version: int | None,
    ) -> Route:
        """Change the named `fields` to their values in `draft`; Aborted if `expected_version`
        (when given) is not the route's current version."""
        unknown = fields - ALL_FIELDS
        if unknown or not fields:
            raise InvalidArgument.for_field(
                "update_mask", "may name only name, policy, targets and first_token_timeout"
            )
        violations = draft_violations(draft, fields)
        if expected_version is not None and expected_version < 1:
            # Versions start at 1: a lower one was never current, so ABORTED would be a lie.
            violations.append(FieldViolation("expected_version", "must be positive (0: unset)"))
        raise_if_any(violations)
        current = await self._repository().get(principal.tenant, route_id)
        wanted = _fields_of(draft)
        merged = RouteFields(
            name=wanted.name if "name" in fields else current.fields.name,
            policy=wanted.policy if "policy" in fields else current.fields.policy,
            targets=wanted.targets if "targets" in fields else current.fields.targets,
            first_token_timeout=(
                wanted.first_token_timeout
                if "first_token_timeout" in fields
                else current.fields.first_token_timeout
            ),
        )
        row = await self._repository().update(
            principal.tenant,
            route_id,
            merged,
            # Without the caller's version, the one just read: a write that raced this one
            # between the read and the write is still not silently undone.
            expected_version=expected_version or current.version,
            audit=_event(principal, "route.update", route_id, merged, changed=sorted(fields)),
        )
        await self._cache.forget(row.id)
        return route_from_row(row)

    async def delete(self, principal: Principal, route_id: str) -> None:
        event = AuditEvent(
            actor=principal.actor,
            tenant=principal.tenant,
            action="route.delete",
            target_type="route",
            target_id=route_id,
            request_id=current_request_id(),
        )
        await self._repository().delete(principal.tenant, route_id, event)
        await self._cache.forget(route_id)

    async def route_for_use(self, tenant: Tenant, route_id: str) -> Route:
        """The tenant's route for one call: from this process's cache when it holds it.

        Raises:
            NotFound: unknown id, or another tenant's route.
        """
        cached = self._cache.get(tenant, route_id)
        if cached is not None:
            return cached
        generation = self._cache.generation
        route = route_from_row(await self._repository().get(tenant, route_id))
        self._cache.put(tenant, route, generation)
        return route


def _fields_of(draft: RouteDraft) -> RouteFields:
    timeout = draft.first_token_timeout
    return RouteFields(
        name=draft.name,
        policy=draft.policy,
        targets=tuple(
            StoredTarget(
                credential_id=_canonical_id(target.credential_id),
                model=target.model,
                weight=target.weight,
                voice=target.voice,
            )
            for target in draft.targets
        ),
        first_token_timeout=timedelta(seconds=timeout) if timeout is not None else None,
    )


def _canonical_id(credential_id: str) -> str:
    """A credential id as its row names it (lower-case UUID), so the audit trail and the route
    name it alike; an id that is no UUID is left for the store to refuse."""
    parsed = parse_credential_id(credential_id)
    return str(parsed) if parsed is not None else credential_id


def route_from_row(row: RouteRow) -> Route:
    fields = row.fields
    timeout = fields.first_token_timeout
    policy: RoutePolicy = "balance" if fields.policy == "balance" else "failover"
    return Route(
        id=row.id,
        tenant_id=tenant_label(row.tenant),
        name=fields.name,
        policy=policy,
        targets=tuple(
            RouteTarget(
                credential_id=target.credential_id,
                model=target.model,
                weight=target.weight,
                voice=target.voice,
            )
            for target in fields.targets
        ),
        first_token_timeout=timeout.total_seconds() if timeout is not None else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
        version=row.version,
    )


def tenant_label(tenant: Tenant) -> str:
    """The route's `tenant_id`: organization and project, as the audit trail names a tenant."""
    return f"{tenant.organization_id}/{tenant.project_id}"


def _event(
    principal: Principal,
    action: str,
    route_id: str,
    fields: RouteFields,
    changed: list[str] | None = None,
) -> AuditEvent:
    credential_ids: list[JsonValue] = [target.credential_id for target in fields.targets]
    details: dict[str, JsonValue] = {
        "name": fields.name,
        "policy": fields.policy,
        "credential_ids": credential_ids,
    }
    if fields.first_token_timeout is not None:
        details["first_token_timeout_ms"] = int(fields.first_token_timeout.total_seconds() * 1000)
    if changed is not None:
        details["changed"] = list[JsonValue](changed)
    return AuditEvent(
        actor=principal.actor,
        tenant=principal.tenant,
        action=action,
        target_type="route",
        target_id=route_id,
        request_id=current_request_id(),
        details=details,
    )
