"""What Telnyx's folder serves: the account check, signed webhooks and call control."""

from __future__ import annotations

from integration_api.credentials.model import TelnyxAccount
from integration_api.providers.declaration import CALL, WEBHOOK, ProviderFolder, ProviderSpec
from integration_api.providers.telephony_regions import named_regions
from integration_api.providers.telnyx import account, calls, verification, webhook

TELNYX = ProviderSpec(
    id=account.PROVIDER,
    verifier=verification.VERIFIER,
    secret_kinds=frozenset({TelnyxAccount.kind}),
    check_secret=account.secret_violations,
    check_config=account.connection_violations,
    telephony=(WEBHOOK, CALL),
    webhooks=webhook.CHECKER,
    calls=calls.TelnyxCalls(),
    default_base_url="https://api.telnyx.com",
    # One host serves every account.
    region_shape=named_regions(account.PROVIDER, {}),
    hosts=("api.telnyx.com",),
)

FOLDER = ProviderFolder((TELNYX,))
