"""How `routes` rows map to the store's values, and the store's answers about them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from integration_api.errors import AlreadyExists, NotFound
from integration_api.principal import Tenant

ROUTE_NOT_FOUND = "ROUTE_NOT_FOUND"
_NAME_CONSTRAINT = "routes_name_per_tenant"


@dataclass(frozen=True)
class StoredTarget:
    credential_id: str
    model: str
    weight: int
    voice: str

    def to_json(self) -> dict[str, str | int]:
        return {
            "credential_id": self.credential_id,
            "model": self.model,
            "weight": self.weight,
            "voice": self.voice,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> StoredTarget:
        return cls(
            credential_id=str(value["credential_id"]),
            model=str(value.get("model", "")),
            weight=int(value.get("weight", 1)),
            voice=str(value.get("voice", "")),
        )


@dataclass(frozen=True)
class RouteFields:
    """What a person writes about a route: everything but its identity and bookkeeping."""

    name: str
    policy: str
    targets: tuple[StoredTarget, ...]
    first_token_timeout: timedelta | None


@dataclass(frozen=True)
class RouteRow:
    """One row of `routes`, exactly as stored."""

    id: str
    tenant: Tenant
    fields: RouteFields
    created_at: datetime
    created_by: str
    updated_at: datetime
    version: int


def route_from_record(record: asyncpg.Record) -> RouteRow:
    return RouteRow(
        id=str(record["id"]),
        tenant=Tenant(record["organization_id"], record["project_id"]),
        fields=RouteFields(
            name=record["name"],
            policy=record["policy"],
            targets=tuple(StoredTarget.from_json(item) for item in record["targets"]),
            first_token_timeout=record["first_token_timeout"],
        ),
        created_at=record["created_at"],
        created_by=record["created_by"],
        updated_at=record["updated_at"],
        version=record["version"],
    )


def parse_route_id(route_id: str) -> uuid.UUID | None:
    """The UUID in `route_id`, or None when it is not one (and so names no route)."""
    try:
        return uuid.UUID(route_id)
    except (ValueError, TypeError, AttributeError):
        return None


def route_not_found(route_uuid: uuid.UUID | None) -> NotFound:
    """The one answer for an id that names no route of the caller's tenant, whether it is
    missing or another tenant's, so the two cannot be told apart."""
    # A malformed id is caller input and is not echoed back.
    if route_uuid is None:
        return NotFound("route not found", reason=ROUTE_NOT_FOUND)
    return NotFound(f"route {route_uuid} not found", reason=ROUTE_NOT_FOUND)


def duplicate_route(error: asyncpg.UniqueViolationError) -> AlreadyExists:
    if error.constraint_name == _NAME_CONSTRAINT:
        return AlreadyExists(
            "name: a route with this name already exists in this project",
            metadata={"field": "name"},
        )
    return AlreadyExists("route already exists")
