"""What Telnyx's folder serves: the account check, signed webhooks and call control."""

from __future__ import annotations

from integration_api.credentials.model import TelnyxAccount
from integration_api.providers.declaration import ProviderFolder
from integration_api.providers.telephony_spec import TelephonyHosts, telephony_provider
from integration_api.providers.telnyx import account, calls, verification, webhook

TELNYX = telephony_provider(
    account.PROVIDER,
    TelnyxAccount.kind,
    verifier=verification.VERIFIER,
    check_secret=account.secret_violations,
    check_config=account.connection_violations,
    webhooks=webhook.CHECKER,
    calls=calls.TelnyxCalls(),
    # One host serves every account.
    hosts=TelephonyHosts(default_base_url="https://api.telnyx.com", hosts=("api.telnyx.com",)),
)

FOLDER = ProviderFolder((TELNYX,))
