"""TelephonyService: webhooks checked and calls controlled through stored telephony credentials."""

from __future__ import annotations

import grpc.aio
from integration_api_proto.integration.v1 import (
    GetCallRequest,
    GetCallResponse,
    HangUpRequest,
    HangUpResponse,
    PlaceCallRequest,
    PlaceCallResponse,
    UpdateCallRequest,
    UpdateCallResponse,
    ValidateWebhookRequest,
    ValidateWebhookResponse,
    grpc_aio,
)

from integration_api.call_context import require_principal
from integration_api.providers.http_client import ProviderClient
from integration_api.telephony.call_control import CallService
from integration_api.telephony.call_converters import (
    call_change_from,
    call_message,
    place_call_from,
)
from integration_api.telephony.webhook_converters import (
    response_from_verdict,
    webhook_from_request,
)
from integration_api.telephony.webhook_validation import WebhookValidation


class TelephonyServicer(grpc_aio.TelephonyServiceBase):
    def __init__(self, webhooks: WebhookValidation, calls: CallService[ProviderClient]) -> None:
        self._webhooks = webhooks
        self._calls = calls

    async def validate_webhook(
        self,
        request: ValidateWebhookRequest,
        context: grpc.aio.ServicerContext[ValidateWebhookRequest, ValidateWebhookResponse],
    ) -> ValidateWebhookResponse:
        webhook = webhook_from_request(request)
        tenant = require_principal().tenant
        verdict = await self._webhooks.validate(tenant, request.credential_id, webhook)
        return response_from_verdict(verdict)

    async def place_call(
        self,
        request: PlaceCallRequest,
        context: grpc.aio.ServicerContext[PlaceCallRequest, PlaceCallResponse],
    ) -> PlaceCallResponse:
        placed = place_call_from(request)
        tenant = require_principal().tenant
        call = await self._calls.place(tenant, request.credential_id, placed)
        return PlaceCallResponse(call=call_message(call))

    async def get_call(
        self,
        request: GetCallRequest,
        context: grpc.aio.ServicerContext[GetCallRequest, GetCallResponse],
    ) -> GetCallResponse:
        tenant = require_principal().tenant
        call = await self._calls.get(tenant, request.credential_id, request.call_id)
        return GetCallResponse(call=call_message(call))

    async def update_call(
        self,
        request: UpdateCallRequest,
        context: grpc.aio.ServicerContext[UpdateCallRequest, UpdateCallResponse],
    ) -> UpdateCallResponse:
        change = call_change_from(request)
        tenant = require_principal().tenant
        call = await self._calls.update(tenant, request.credential_id, request.call_id, change)
        return UpdateCallResponse(call=call_message(call))

    async def hang_up(
        self,
        request: HangUpRequest,
        context: grpc.aio.ServicerContext[HangUpRequest, HangUpResponse],
    ) -> HangUpResponse:
        tenant = require_principal().tenant
        call = await self._calls.hang_up(tenant, request.credential_id, request.call_id)
        return HangUpResponse(call=call_message(call))
