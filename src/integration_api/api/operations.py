"""OperationsService: inventory, health checks, gated rotation, bulk disable, the audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc.aio
from integration_api_proto.integration.v1 import (
    ConfirmRotationRequest,
    ConfirmRotationResponse,
    DeleteBudgetRequest,
    DeleteBudgetResponse,
    DisableCredentialsRequest,
    DisableCredentialsResponse,
    ExportAuditEventsRequest,
    ExportAuditEventsResponse,
    ExportUsageRequest,
    ExportUsageResponse,
    GetInventoryRequest,
    GetInventoryResponse,
    GetUsageRequest,
    GetUsageResponse,
    ListAuditEventsRequest,
    ListAuditEventsResponse,
    ListBudgetsRequest,
    ListBudgetsResponse,
    ListPricesRequest,
    ListPricesResponse,
    RequestRotationRequest,
    RequestRotationResponse,
    RunHealthCheckRequest,
    RunHealthCheckResponse,
    SetBudgetRequest,
    SetBudgetResponse,
    SetPriceRequest,
    SetPriceResponse,
    VerifyAuditLogRequest,
    VerifyAuditLogResponse,
)
from integration_api_proto.integration.v1.grpc_aio import OperationsServiceBase

from integration_api.api.budget_messages import budget_message, spec_from_message
from integration_api.api.connection_inventory_messages import (
    connection_aggregate_message,
    connection_item_message,
    connection_status_from_message,
)
from integration_api.api.credential_messages import credential_message, secret_from_message
from integration_api.api.operations_messages import (
    aggregate_message,
    audit_event_message,
    audit_filter_from_message,
    disabled_item,
    effective_status_from_message,
    health_message,
    inventory_row_message,
    rotation_message,
)
from integration_api.api.price_messages import price_draft, price_message
from integration_api.api.usage_messages import (
    groupings_from_message,
    usage_response,
    usage_selection_from_message,
)
from integration_api.call_context import require_principal
from integration_api.ops.inventory import InventoryQuery
from integration_api.ops.service import Operations

Context = grpc.aio.ServicerContext[Any, Any]


class OperationsServicer(OperationsServiceBase):
    def __init__(self, operations: Operations) -> None:
        self._operations = operations

    async def get_inventory(
        self, request: GetInventoryRequest, context: Context
    ) -> GetInventoryResponse:
        query = InventoryQuery(
            provider=request.provider,
            organization_id=request.organization_id,
            project_id=request.project_id,
            effective_status=effective_status_from_message(request.effective_status),
            connection_status=connection_status_from_message(request.connection_status),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await self._operations.inventory.page(require_principal(), query)
        return GetInventoryResponse(
            items=[aggregate_message(item) for item in page.aggregates],
            credentials=[inventory_row_message(row) for row in page.credentials],
            next_page_token=page.next_page_token,
            connections=[connection_item_message(row) for row in page.connections],
            connection_providers=[
                connection_aggregate_message(item) for item in page.connection_aggregates
            ],
        )

    async def run_health_check(
        self, request: RunHealthCheckRequest, context: Context
    ) -> RunHealthCheckResponse:
        checked = await self._operations.run_health_check(
            require_principal(), list(request.credential_ids), request.provider, request.all
        )
        return RunHealthCheckResponse(results=[health_message(item) for item in checked])

    async def request_rotation(
        self, request: RequestRotationRequest, context: Context
    ) -> RequestRotationResponse:
        rotation = await self._operations.rotations.request(
            require_principal(), request.credential_id, request.reason
        )
        return RequestRotationResponse(rotation=rotation_message(rotation))

    async def confirm_rotation(
        self, request: ConfirmRotationRequest, context: Context
    ) -> ConfirmRotationResponse:
        confirmed = await self._operations.rotations.confirm(
            require_principal(), request.rotation_id, secret_from_message(request.secret)
        )
        return ConfirmRotationResponse(
            rotation=rotation_message(confirmed.rotation),
            credential=credential_message(confirmed.credential),
        )

    async def disable_credentials(
        self, request: DisableCredentialsRequest, context: Context
    ) -> DisableCredentialsResponse:
        rows = await self._operations.bulk_disable.disable(
            require_principal(),
            organization_id=request.organization_id,
            project_id=request.project_id,
            provider=request.provider,
            reason=request.reason,
        )
        return DisableCredentialsResponse(disabled=[disabled_item(row) for row in rows])

    async def list_audit_events(
        self, request: ListAuditEventsRequest, context: Context
    ) -> ListAuditEventsResponse:
        events, next_token = await self._operations.audit.page(
            require_principal(),
            audit_filter_from_message(request.filter, request.action),
            request.page_size,
            request.page_token,
        )
        return ListAuditEventsResponse(
            events=[audit_event_message(event) for event in events], next_page_token=next_token
        )

    async def export_audit_events(
        self, request: ExportAuditEventsRequest, context: Context
    ) -> AsyncIterator[ExportAuditEventsResponse]:
        lines = self._operations.audit.export(
            require_principal(), audit_filter_from_message(request.filter)
        )
        async for line in lines:
            yield ExportAuditEventsResponse(json_line=line)

    async def verify_audit_log(
        self, request: VerifyAuditLogRequest, context: Context
    ) -> VerifyAuditLogResponse:
        result = await self._operations.audit.verify(require_principal())
        return VerifyAuditLogResponse(
            ok=result.ok, checked_events=result.checked, first_bad_event_id=result.first_bad_id or 0
        )

    async def set_budget(self, request: SetBudgetRequest, context: Context) -> SetBudgetResponse:
        view = await self._operations.budgets.set(
            require_principal(), spec_from_message(request.budget)
        )
        return SetBudgetResponse(budget=budget_message(view))

    async def list_budgets(
        self, request: ListBudgetsRequest, context: Context
    ) -> ListBudgetsResponse:
        views = await self._operations.budgets.list(
            require_principal(), request.organization_id, request.project_id
        )
        return ListBudgetsResponse(budgets=[budget_message(view) for view in views])

    async def delete_budget(
        self, request: DeleteBudgetRequest, context: Context
    ) -> DeleteBudgetResponse:
        await self._operations.budgets.delete(require_principal(), request.budget_id)
        return DeleteBudgetResponse()

    async def set_price(self, request: SetPriceRequest, context: Context) -> SetPriceResponse:
        stored = await self._operations.prices.set(require_principal(), price_draft(request.price))
        return SetPriceResponse(price=price_message(stored))

    async def list_prices(self, request: ListPricesRequest, context: Context) -> ListPricesResponse:
        prices = await self._operations.prices.list(
            require_principal(),
            request.provider,
            request.model,
            include_history=request.include_history,
        )
        return ListPricesResponse(prices=[price_message(stored) for stored in prices])

    async def get_usage(self, request: GetUsageRequest, context: Context) -> GetUsageResponse:
        report = await self._operations.usage.usage(
            require_principal(),
            usage_selection_from_message(request.filter),
            groupings_from_message(request.group_by),
        )
        return usage_response(report)

    async def export_usage(
        self, request: ExportUsageRequest, context: Context
    ) -> AsyncIterator[ExportUsageResponse]:
        lines = self._operations.usage.export(
            require_principal(), usage_selection_from_message(request.filter)
        )
        async for line in lines:
            yield ExportUsageResponse(json_line=line)
