"""The rows the store reads and writes, as frozen values with no database types in them.

Ids are the text form of a UUID, timestamps are timezone-aware, `config` and audit `details`
are plain JSON objects. Nothing here holds plaintext secret material: `ciphertext` is what the
vault produced and is left out of `repr` only because it is long and useless to a reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

from integration_api.principal import Tenant

CREDENTIAL_STATUSES = ("active", "unverified", "disabled")
CHECK_OUTCOMES = ("valid", "invalid", "unreachable")
AUDIT_OUTCOMES = ("success", "failure")

# Audit details are hashed into the chain as canonical JSON and stored as JSONB; floats are
# left out because JSONB may rewrite their text (1e+16 comes back as an integer) and the hash
# recomputed on verification would then differ.
JsonValue: TypeAlias = (
    str
    | int
    | bool
    | list["JsonValue"]
    | tuple["JsonValue", ...]
    | Mapping[str, "JsonValue"]
    | None
)


@dataclass(frozen=True)
class HealthCheckRecord:
    """The outcome of one verification call made with a credential."""

    checked_at: datetime
    outcome: str
    latency_ms: int | None = None
    message: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in CHECK_OUTCOMES:
            raise ValueError(f"check outcome must be one of {', '.join(CHECK_OUTCOMES)}")
        if self.latency_ms is not None and self.latency_ms < 0:
            raise ValueError("check latency must not be negative")


@dataclass(frozen=True)
class NewCredential:
    """A credential about to be stored; the caller picks `id` as the ciphertext is bound to it."""

    id: str
    tenant: Tenant
    provider: str
    name: str
    config: Mapping[str, Any]
    ciphertext: bytes = field(repr=False)
    key_id: str
    secret_hint: str
    fingerprint: str
    status: str
    created_by: str
    status_reason: str = ""
    secret_kind: str = ""


@dataclass(frozen=True)
class CredentialRow:
    """One row of `credentials`, exactly as stored."""

    id: str
    organization_id: str
    project_id: str
    provider: str
    name: str
    config: dict[str, Any]
    ciphertext: bytes = field(repr=False)
    key_id: str
    secret_hint: str
    fingerprint: str
    status: str
    status_reason: str
    last_check_at: datetime | None
    last_check_outcome: str | None
    last_check_latency_ms: int | None
    last_check_message: str
    rotated_at: datetime | None
    rotated_by: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    version: int
    secret_kind: str = ""

    @property
    def tenant(self) -> Tenant:
        return Tenant(self.organization_id, self.project_id)

    @property
    def last_check(self) -> HealthCheckRecord | None:
        if self.last_check_at is None or self.last_check_outcome is None:
            return None
        return HealthCheckRecord(
            checked_at=self.last_check_at,
            outcome=self.last_check_outcome,
            latency_ms=self.last_check_latency_ms,
            message=self.last_check_message,
        )


@dataclass(frozen=True)
class AuditEvent:
    """Something that happened, as the caller describes it; the log adds id, time and hashes."""

    actor: str
    tenant: Tenant
    action: str
    target_type: str
    target_id: str
    outcome: str = "success"
    request_id: str = ""
    details: Mapping[str, JsonValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.outcome not in AUDIT_OUTCOMES:
            raise ValueError(f"audit outcome must be one of {', '.join(AUDIT_OUTCOMES)}")
        _require_hashable_json(self.details, "details")


@dataclass(frozen=True)
class StoredAuditEvent:
    """An event as appended to the chain: `hash` = SHA-256(`prev_hash` || canonical fields)."""

    id: int
    occurred_at: datetime
    event: AuditEvent
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True)
class AuditVerification:
    """Result of recomputing the chain; `first_bad_id` is the first event that does not fit."""

    ok: bool
    checked: int
    first_bad_id: int | None = None


def _require_hashable_json(value: object, path: str) -> None:
    if isinstance(value, bool | int | str) or value is None:
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _require_hashable_json(item, f"{path}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"audit {path} keys must be strings")
            _require_hashable_json(item, f"{path}.{key}")
        return
    raise TypeError(f"audit {path} holds a {type(value).__name__}; use str, int, bool or None")
