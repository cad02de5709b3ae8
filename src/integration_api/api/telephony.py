"""TelephonyService: webhooks checked and calls controlled through stored telephony credentials."""

from __future__ import annotations

import grpc.aio
from integration_api_proto.integration.v1 import (
    ValidateWebhookRequest,
    ValidateWebhookResponse,
    grpc_aio,
)

from integration_api.call_context import require_principal
from integration_api.telephony.webhook_converters import (
    response_from_verdict,
    webhook_from_request,
)
from integration_api.telephony.webhook_validation import WebhookValidation


class TelephonyServicer(grpc_aio.TelephonyServiceBase):
    def __init__(self, webhooks: WebhookValidation) -> None:
        self._webhooks = webhooks

    async def validate_webhook(
        self,
        request: ValidateWebhookRequest,
        context: grpc.aio.ServicerContext[ValidateWebhookRequest, ValidateWebhookResponse],
    ) -> ValidateWebhookResponse:
        webhook = webhook_from_request(request)
        tenant = require_principal().tenant
        verdict = await self._webhooks.validate(tenant, request.credential_id, webhook)
        return response_from_verdict(verdict)
