"""How `credentials` rows map to the store's values, shared by the repositories that read them."""

from __future__ import annotations

import uuid

import asyncpg

from integration_api.errors import AlreadyExists, InvalidArgument, NotFound
from integration_api.store.models import CREDENTIAL_STATUSES, CredentialRow

_NAME_CONSTRAINT = "credentials_name_per_tenant"
_PRIMARY_KEY_CONSTRAINT = "credentials_pkey"


def credential_from_record(record: asyncpg.Record) -> CredentialRow:
    return CredentialRow(
        id=str(record["id"]),
        organization_id=record["organization_id"],
        project_id=record["project_id"],
        provider=record["provider"],
        name=record["name"],
        config=record["config"],
        ciphertext=bytes(record["ciphertext"]),
        key_id=record["key_id"],
        secret_hint=record["secret_hint"],
        fingerprint=record["fingerprint"],
        status=record["status"],
        status_reason=record["status_reason"],
        last_check_at=record["last_check_at"],
        last_check_outcome=record["last_check_outcome"],
        last_check_latency_ms=record["last_check_latency_ms"],
        last_check_message=record["last_check_message"],
        rotated_at=record["rotated_at"],
        rotated_by=record["rotated_by"],
        created_at=record["created_at"],
        created_by=record["created_by"],
        updated_at=record["updated_at"],
        version=record["version"],
        secret_kind=record["secret_kind"],
    )


def parse_credential_id(credential_id: str) -> uuid.UUID | None:
    """The UUID in `credential_id`, or None when it is not one (and so names no credential)."""
    try:
        return uuid.UUID(credential_id)
    except (ValueError, TypeError, AttributeError):
        return None


CREDENTIAL_NOT_FOUND = "CREDENTIAL_NOT_FOUND"


def credential_not_found(credential_uuid: uuid.UUID | None) -> NotFound:
    """The one answer for an id that names no credential of the caller's tenant.

    Every path (database or cache, missing or another tenant's) raises exactly this, so an id
    that exists elsewhere cannot be told from one that does not exist at all.
    """
    # A malformed id is not echoed back: it is caller input and could be anything.
    if credential_uuid is None:
        return NotFound("credential not found", reason=CREDENTIAL_NOT_FOUND)
    return NotFound(f"credential {credential_uuid} not found", reason=CREDENTIAL_NOT_FOUND)


def require_status(status: str, field_path: str = "status") -> None:
    if status not in CREDENTIAL_STATUSES:
        raise InvalidArgument.for_field(
            field_path, f"must be one of {', '.join(CREDENTIAL_STATUSES)}"
        )


def duplicate_credential(error: asyncpg.UniqueViolationError) -> AlreadyExists:
    if error.constraint_name == _NAME_CONSTRAINT:
        return AlreadyExists(
            "name: a credential with this name already exists in this project",
            metadata={"field": "name"},
        )
    if error.constraint_name == _PRIMARY_KEY_CONSTRAINT:
        return AlreadyExists(
            "id: a credential with this id already exists", metadata={"field": "id"}
        )
    return AlreadyExists("credential already exists")
