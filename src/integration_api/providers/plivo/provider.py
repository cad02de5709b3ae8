"""What Plivo's folder serves: the account check, signed webhooks and call control."""

from __future__ import annotations

from integration_api.credentials.model import PlivoAccount
from integration_api.providers.declaration import ProviderFolder
from integration_api.providers.plivo import account, calls, verification, webhook
from integration_api.providers.telephony_spec import TelephonyHosts, telephony_provider

PLIVO = telephony_provider(
    account.PROVIDER,
    PlivoAccount.kind,
    verifier=verification.VERIFIER,
    check_secret=account.secret_violations,
    webhooks=webhook.CHECKER,
    calls=calls.PlivoCalls(),
    # One host serves every account.
    hosts=TelephonyHosts(default_base_url="https://api.plivo.com", hosts=("api.plivo.com",)),
)

FOLDER = ProviderFolder((PLIVO,))
