"""What Vonage's folder serves: the account check, signed webhooks and call control.

The default base URL is the Voice API's; the account check goes to rest.nexmo.com
(`account.rest_base_url`), which is among the folder's hosts.
"""

from __future__ import annotations

from integration_api.credentials.model import VonageAccount
from integration_api.providers.declaration import CALL, WEBHOOK, ProviderFolder, ProviderSpec
from integration_api.providers.telephony_regions import named_regions, regional_base_urls
from integration_api.providers.vonage import account, calls, regions, verification, webhook

VONAGE = ProviderSpec(
    id=account.PROVIDER,
    verifier=verification.VERIFIER,
    secret_kinds=frozenset({VonageAccount.kind}),
    check_secret=account.secret_violations,
    telephony=(WEBHOOK, CALL),
    webhooks=webhook.CHECKER,
    calls=calls.VonageCalls(),
    default_base_url=regions.DEFAULT_BASE_URL,
    regional_base_url=regional_base_urls(regions.REGION_HOSTS),
    region_shape=named_regions(account.PROVIDER, regions.REGION_HOSTS),
    hosts=regions.HOSTS,
)

FOLDER = ProviderFolder((VONAGE,))
