"""What Exotel's folder serves: the account check and call control.

Exotel documents no webhook signature, so ValidateWebhook has nothing to check for it.
"""

from __future__ import annotations

from integration_api.credentials.model import ExotelAccount
from integration_api.providers.declaration import CALL, ProviderFolder, ProviderSpec
from integration_api.providers.exotel import account, calls, regions, verification, webhook
from integration_api.providers.telephony_regions import named_regions, regional_base_urls

EXOTEL = ProviderSpec(
    id=account.PROVIDER,
    verifier=verification.VERIFIER,
    secret_kinds=frozenset({ExotelAccount.kind}),
    check_secret=account.secret_violations,
    telephony=(CALL,),
    webhooks=webhook.UNSIGNED,
    calls=calls.ExotelCalls(),
    default_base_url=regions.DEFAULT_BASE_URL,
    regional_base_url=regional_base_urls(regions.REGION_HOSTS),
    region_shape=named_regions(account.PROVIDER, regions.REGION_HOSTS),
    hosts=regions.HOSTS,
)

FOLDER = ProviderFolder((EXOTEL,))
