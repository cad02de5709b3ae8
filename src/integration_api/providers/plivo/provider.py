"""What Plivo's folder serves: the account check, signed webhooks and call control."""

from __future__ import annotations

from integration_api.credentials.model import PlivoAccount
from integration_api.providers.declaration import CALL, WEBHOOK, ProviderFolder, ProviderSpec
from integration_api.providers.plivo import account, calls, verification, webhook
from integration_api.providers.telephony_regions import named_regions

PLIVO = ProviderSpec(
    id=account.PROVIDER,
    verifier=verification.VERIFIER,
    secret_kinds=frozenset({PlivoAccount.kind}),
    check_secret=account.secret_violations,
    telephony=(WEBHOOK, CALL),
    webhooks=webhook.CHECKER,
    calls=calls.PlivoCalls(),
    default_base_url="https://api.plivo.com",
    # One host serves every account.
    region_shape=named_regions(account.PROVIDER, {}),
    hosts=("api.plivo.com",),
)

FOLDER = ProviderFolder((PLIVO,))
