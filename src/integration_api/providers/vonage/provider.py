"""What Vonage's folder serves: the account check, signed webhooks and call control.

The default base URL is the Voice API's; the account check goes to rest.nexmo.com
(`account.rest_base_url`), which is among the folder's hosts.
"""

from __future__ import annotations

from integration_api.credentials.model import VonageAccount
from integration_api.providers.declaration import ProviderFolder
from integration_api.providers.telephony_spec import TelephonyHosts, telephony_provider
from integration_api.providers.vonage import account, calls, regions, verification, webhook

VONAGE = telephony_provider(
    account.PROVIDER,
    VonageAccount.kind,
    verifier=verification.VERIFIER,
    check_secret=account.secret_violations,
    webhooks=webhook.CHECKER,
    calls=calls.VonageCalls(),
    hosts=TelephonyHosts(
        default_base_url=regions.DEFAULT_BASE_URL,
        hosts=regions.HOSTS,
        region_hosts=regions.REGION_HOSTS,
    ),
)

FOLDER = ProviderFolder((VONAGE,))
