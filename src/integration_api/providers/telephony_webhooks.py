"""Which telephony provider checks its webhooks how: one line per provider."""

from __future__ import annotations

from integration_api.providers.exotel import webhook as exotel
from integration_api.providers.plivo import webhook as plivo
from integration_api.providers.telnyx import webhook as telnyx
from integration_api.providers.twilio import webhook as twilio
from integration_api.providers.vonage import webhook as vonage
from integration_api.telephony.webhooks import UnsignedWebhooks, WebhookChecker

WEBHOOK_CHECKERS: dict[str, WebhookChecker | UnsignedWebhooks] = {
    "twilio": twilio.CHECKER,
    "vonage": vonage.CHECKER,
    "plivo": plivo.CHECKER,
    "telnyx": telnyx.CHECKER,
    "exotel": exotel.UNSIGNED,
}


def webhook_checker_for(provider: str) -> WebhookChecker | UnsignedWebhooks | None:
    """The provider's webhook checker; None for a provider that has no webhooks."""
    return WEBHOOK_CHECKERS.get(provider)
