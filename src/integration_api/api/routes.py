"""RouteService: validate, call one domain operation, translate the answer."""

from __future__ import annotations

from typing import Any

import grpc.aio
from integration_api_proto.integration.v1 import (
    CreateRouteRequest,
    CreateRouteResponse,
    DeleteRouteRequest,
    DeleteRouteResponse,
    GetRouteRequest,
    GetRouteResponse,
    ListRoutesRequest,
    ListRoutesResponse,
    UpdateRouteRequest,
    UpdateRouteResponse,
)
from integration_api_proto.integration.v1.grpc_aio import RouteServiceBase

from integration_api.api.route_messages import draft_from_message, route_message
from integration_api.call_context import require_principal
from integration_api.routes.operations import ALL_FIELDS, RouteOperations

Context = grpc.aio.ServicerContext[Any, Any]


def _fields_to_update(request: UpdateRouteRequest) -> frozenset[str]:
    """The mask's paths; an empty mask means every field (the contract says so)."""
    if request.update_mask is not None and request.update_mask.paths:
        return frozenset(request.update_mask.paths)
    return ALL_FIELDS


class RouteServicer(RouteServiceBase):
    def __init__(self, operations: RouteOperations) -> None:
        self._operations = operations

    async def create_route(
        self, request: CreateRouteRequest, context: Context
    ) -> CreateRouteResponse:
        draft = draft_from_message(
            request.name, request.policy, request.targets, request.first_token_timeout
        )
        route = await self._operations.create(require_principal(), draft)
        return CreateRouteResponse(route=route_message(route))

    async def get_route(self, request: GetRouteRequest, context: Context) -> GetRouteResponse:
        route = await self._operations.get(require_principal().tenant, request.id)
        return GetRouteResponse(route=route_message(route))

    async def list_routes(self, request: ListRoutesRequest, context: Context) -> ListRoutesResponse:
        routes, next_token = await self._operations.list(
            require_principal().tenant, page_size=request.page_size, page_token=request.page_token
        )
        return ListRoutesResponse(
            routes=[route_message(route) for route in routes], next_page_token=next_token
        )

    async def update_route(
        self, request: UpdateRouteRequest, context: Context
    ) -> UpdateRouteResponse:
        draft = draft_from_message(
            request.name, request.policy, request.targets, request.first_token_timeout
        )
        route = await self._operations.update(
            require_principal(),
            request.id,
            draft,
            fields=_fields_to_update(request),
            expected_version=request.expected_version or None,
        )
        return UpdateRouteResponse(route=route_message(route))

    async def delete_route(
        self, request: DeleteRouteRequest, context: Context
    ) -> DeleteRouteResponse:
        await self._operations.delete(require_principal(), request.id)
        return DeleteRouteResponse()
