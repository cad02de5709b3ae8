"""Converters between the inventory's OAuth connection messages and the domain's values."""

from __future__ import annotations

from integration_api_proto.integration.v1 import (
    ConnectionInventoryAggregate,
    ConnectionInventoryItem,
    ConnectionStatus,
)

from integration_api.api.oauth import CONNECTION_STATUS_TO_MESSAGE
from integration_api.errors import InvalidArgument
from integration_api.store.connection_inventory import ConnectionAggregate, ConnectionInventoryRow

CONNECTION_STATUS_FROM_MESSAGE = {value: key for key, value in CONNECTION_STATUS_TO_MESSAGE.items()}


def connection_status_from_message(status: ConnectionStatus) -> str:
    if status == ConnectionStatus.UNSPECIFIED:
        return ""
    found = CONNECTION_STATUS_FROM_MESSAGE.get(status)
    if found is None:
        raise InvalidArgument.for_field("connection_status", "is not a known status")
    return found


def connection_item_message(row: ConnectionInventoryRow) -> ConnectionInventoryItem:
    return ConnectionInventoryItem(
        connection_id=row.id,
        provider=row.provider,
        name=row.name,
        organization_id=row.tenant.organization_id,
        project_id=row.tenant.project_id,
        status=CONNECTION_STATUS_TO_MESSAGE.get(row.status, ConnectionStatus.UNSPECIFIED),
        status_reason=row.status_reason,
        scopes=list(row.scopes),
        access_token_expires_at=row.access_token_expires_at,
        refreshable=row.refreshable,
        last_refreshed_at=row.last_refreshed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        account_id=row.account_id,
        created_by=row.created_by,
    )


def connection_aggregate_message(aggregate: ConnectionAggregate) -> ConnectionInventoryAggregate:
    return ConnectionInventoryAggregate(
        provider=aggregate.provider,
        connections=aggregate.connections,
        active=aggregate.active,
        reauthorization_required=aggregate.reauthorization_required,
        revoked=aggregate.revoked,
        oldest_refresh=aggregate.oldest_refresh,
    )
