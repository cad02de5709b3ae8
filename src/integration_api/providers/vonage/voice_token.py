"""Vonage Voice API tokens: RS256 JWTs signed here with the application's private key.

See: https://developer.vonage.com/en/getting-started/concepts/authentication (Voice uses a JWT
with `application_id`, `iat`, `jti` and `exp`). A token lives one minute and is made for one
request: it is never stored, cached or handed to a caller, so a leaked one is worthless soon.
"""

from __future__ import annotations

import time
import uuid

import jwt

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import FailedPrecondition
from integration_api.providers.vonage.account import PROVIDER, vonage_account

TOKEN_SECONDS = 60
VOICE_APPLICATION_MISSING = "VOICE_APPLICATION_MISSING"
PRIVATE_KEY_UNUSABLE = "PRIVATE_KEY_UNUSABLE"


def voice_token(credential: ProviderCredential, now: float | None = None) -> str:
    """A fresh token for one Voice API request.

    Raises:
        FailedPrecondition: the credential has no application id or private key
            (VOICE_APPLICATION_MISSING), or the key cannot sign (PRIVATE_KEY_UNUSABLE).
    """
    account = vonage_account(credential)
    if not account.application_id or not account.private_key:
        raise FailedPrecondition(
            "vonage voice calls need the credential's application_id and private_key",
            reason=VOICE_APPLICATION_MISSING,
            provider=PROVIDER,
        )
    issued = int(time.time() if now is None else now)
    claims = {
        "application_id": account.application_id,
        "iat": issued,
        "exp": issued + TOKEN_SECONDS,
        "jti": str(uuid.uuid4()),
    }
    try:
        return jwt.encode(claims, account.private_key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError):
        # The library's message may quote the key it could not read: say only what failed.
        failure = FailedPrecondition(
            "the vonage credential's private_key is not an RSA private key that can sign",
            reason=PRIVATE_KEY_UNUSABLE,
            provider=PROVIDER,
        )
    raise failure
