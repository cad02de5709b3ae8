"""TelephonyService: webhooks checked and calls controlled through stored telephony credentials."""

from __future__ import annotations

import grpc.aio
from integration_api_proto.integration.v1 import (
    ValidateWebhookRequest,
    ValidateWebhookResponse,
    grpc_aio,
)

from integration_api.providers.telephony_webhooks import webhook_checker_for
from integration_api.runtime import Runtime
from integration_api.server.context import require_principal
from integration_api.telephony.webhook_converters import (
    response_from_verdict,
    webhook_from_request,
)
from integration_api.telephony.webhook_validation import WebhookValidation


def webhook_validation(runtime: Runtime) -> WebhookValidation:
    """Webhook checks over the runtime's credentials and its memory of accepted webhooks."""
    return WebhookValidation(runtime.credential_ops, webhook_checker_for, runtime.webhook_replays)


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
