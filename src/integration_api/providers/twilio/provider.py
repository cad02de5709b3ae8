"""What Twilio's folder serves: the account check, signed webhooks and call control."""

from __future__ import annotations

from integration_api.credentials.model import TwilioAccount
from integration_api.providers.declaration import ProviderFolder
from integration_api.providers.telephony_spec import TelephonyHosts, telephony_provider
from integration_api.providers.twilio import account, calls, regions, verification, webhook

TWILIO = telephony_provider(
    account.PROVIDER,
    TwilioAccount.kind,
    verifier=verification.VERIFIER,
    check_secret=account.secret_violations,
    webhooks=webhook.CHECKER,
    calls=calls.TwilioCalls(),
    hosts=TelephonyHosts(
        default_base_url=regions.DEFAULT_BASE_URL,
        hosts=regions.HOSTS,
        region_hosts=regions.REGION_HOSTS,
    ),
)

FOLDER = ProviderFolder((TWILIO,))
