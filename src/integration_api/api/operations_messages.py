"""Converters between the contract's operations messages and the domain's values."""

from __future__ import annotations

from integration_api_proto.google.protobuf import Struct
from integration_api_proto.integration.v1 import (
    AuditEvent,
    AuditFilter,
    CredentialHealth,
    CredentialInventoryItem,
    EffectiveStatus,
    InventoryItem,
    Rotation,
    RotationState,
)

from integration_api.api.credential_messages import STATUS_TO_MESSAGE, check_message
from integration_api.errors import InvalidArgument
from integration_api.ops import audit_trail
from integration_api.ops.health import CheckedCredential
from integration_api.providers.registry import PROVIDERS
from integration_api.store.inventory import InventoryRow, ProviderAggregate
from integration_api.store.models import CredentialRow, StoredAuditEvent
from integration_api.store.rotations import RotationRow

EFFECTIVE_TO_MESSAGE = {
    "healthy": EffectiveStatus.HEALTHY,
    "degraded": EffectiveStatus.DEGRADED,
    "unhealthy": EffectiveStatus.UNHEALTHY,
    "disabled": EffectiveStatus.DISABLED,
    "unknown": EffectiveStatus.UNKNOWN,
    "stale": EffectiveStatus.STALE,
}
EFFECTIVE_FROM_MESSAGE = {value: key for key, value in EFFECTIVE_TO_MESSAGE.items()}
ROTATION_STATE_TO_MESSAGE = {
    "pending": RotationState.PENDING,
    "confirming": RotationState.PENDING,
    "confirmed": RotationState.CONFIRMED,
}


def effective_status_from_message(status: EffectiveStatus) -> str:
    if status == EffectiveStatus.UNSPECIFIED:
        return ""
    found = EFFECTIVE_FROM_MESSAGE.get(status)
    if found is None:
        raise InvalidArgument.for_field("effective_status", "is not a known status")
    return found


def _capabilities(provider: str) -> list[str]:
    spec = PROVIDERS.get(provider)
    if spec is None:
        return []
    offered = [("chat", spec.chat), ("embed", spec.embedding), ("rerank", spec.rerank)]
    return [name for name, model in offered if model is not None] + ["verify", *spec.telephony]


def aggregate_message(aggregate: ProviderAggregate) -> InventoryItem:
    return InventoryItem(
        provider=aggregate.provider,
        credentials=aggregate.credentials,
        active=aggregate.active,
        unverified=aggregate.unverified,
        disabled=aggregate.disabled,
        failing=aggregate.failing,
        oldest_rotation=aggregate.oldest_rotation,
        capabilities=_capabilities(aggregate.provider),
    )


def inventory_item(row: CredentialRow, effective_status: str) -> CredentialInventoryItem:
    config = row.config
    return CredentialInventoryItem(
        credential_id=row.id,
        provider=row.provider,
        name=row.name,
        organization_id=row.organization_id,
        project_id=row.project_id,
        effective_status=EFFECTIVE_TO_MESSAGE[effective_status],
        status=STATUS_TO_MESSAGE[row.status],
        default_model=str(config.get("default_model", "")),
        base_url=str(config.get("base_url", "")),
        last_check=check_message(row.last_check),
        rotated_at=row.rotated_at,
        rotated_by=row.rotated_by,
        disabled_reason=row.status_reason if row.status == "disabled" else "",
    )


def inventory_row_message(row: InventoryRow) -> CredentialInventoryItem:
    return inventory_item(row.credential, row.effective_status)


def disabled_item(row: CredentialRow) -> CredentialInventoryItem:
    return inventory_item(row, "disabled")


def health_message(checked: CheckedCredential) -> CredentialHealth:
    row = checked.credential
    return CredentialHealth(
        credential_id=row.id,
        provider=row.provider,
        check=check_message(checked.check),
        organization_id=row.organization_id,
        project_id=row.project_id,
        name=row.name,
    )


def rotation_message(rotation: RotationRow, expired: bool = False) -> Rotation:
    state = RotationState.EXPIRED if expired else ROTATION_STATE_TO_MESSAGE[rotation.state]
    return Rotation(
        id=rotation.id,
        credential_id=rotation.credential_id,
        requested_by=rotation.requested_by,
        reason=rotation.reason,
        state=state,
        requested_at=rotation.requested_at,
        expires_at=rotation.expires_at,
        confirmed_by=rotation.confirmed_by,
        confirmed_at=rotation.confirmed_at,
        organization_id=rotation.tenant.organization_id,
        project_id=rotation.tenant.project_id,
    )


def audit_event_message(stored: StoredAuditEvent) -> AuditEvent:
    event = stored.event
    return AuditEvent(
        id=stored.id,
        occurred_at=stored.occurred_at,
        actor=event.actor,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        outcome=event.outcome,
        request_id=event.request_id,
        details=Struct.from_dict(dict(event.details)),
        hash=stored.hash.hex(),
        organization_id=event.tenant.organization_id,
        project_id=event.tenant.project_id,
    )


def audit_filter_from_message(
    selection: AuditFilter | None, action: str = ""
) -> audit_trail.AuditFilter:
    if selection is None:
        return audit_trail.AuditFilter(action=action)
    return audit_trail.AuditFilter(
        actor=selection.actor,
        action=selection.action or action,
        target_type=selection.target_type,
        target_id=selection.target_id,
        organization_id=selection.organization_id,
        project_id=selection.project_id,
        start=selection.start_time,
        end=selection.end_time,
    )
