"""What Twilio's folder serves: the account check, signed webhooks and call control."""

from __future__ import annotations

from integration_api.credentials.model import TwilioAccount
from integration_api.providers.declaration import CALL, WEBHOOK, ProviderFolder, ProviderSpec
from integration_api.providers.telephony_regions import named_regions, regional_base_urls
from integration_api.providers.twilio import account, calls, regions, verification, webhook

TWILIO = ProviderSpec(
    id=account.PROVIDER,
    verifier=verification.VERIFIER,
    secret_kinds=frozenset({TwilioAccount.kind}),
    check_secret=account.secret_violations,
    telephony=(WEBHOOK, CALL),
    webhooks=webhook.CHECKER,
    calls=calls.TwilioCalls(),
    default_base_url=regions.DEFAULT_BASE_URL,
    regional_base_url=regional_base_urls(regions.REGION_HOSTS),
    region_shape=named_regions(account.PROVIDER, regions.REGION_HOSTS),
    hosts=regions.HOSTS,
)

FOLDER = ProviderFolder((TWILIO,))
