"""What Exotel's folder serves: the account check and call control.

Exotel documents no webhook signature, so ValidateWebhook has nothing to check for it.
"""

from __future__ import annotations

from integration_api.credentials.model import ExotelAccount
from integration_api.providers.declaration import ProviderFolder
from integration_api.providers.exotel import account, calls, regions, verification, webhook
from integration_api.providers.telephony_spec import TelephonyHosts, telephony_provider

EXOTEL = telephony_provider(
    account.PROVIDER,
    ExotelAccount.kind,
    verifier=verification.VERIFIER,
    check_secret=account.secret_violations,
    webhooks=webhook.UNSIGNED,
    calls=calls.ExotelCalls(),
    hosts=TelephonyHosts(
        default_base_url=regions.DEFAULT_BASE_URL,
        hosts=regions.HOSTS,
        region_hosts=regions.REGION_HOSTS,
    ),
)

FOLDER = ProviderFolder((EXOTEL,))
