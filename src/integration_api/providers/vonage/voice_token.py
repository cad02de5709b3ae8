"""Vonage Voice API tokens: RS256 JWTs signed here with the application's private key.

See: https://developer.vonage.com/en/getting-started/concepts/authentication (Voice uses a JWT
with `application_id`, `iat`, `jti` and `exp`). A token lives one minute and is made for one
request: it is never stored, cached or handed to a caller, so a leaked one is worthless soon.

The private key is loaded without OpenSSL's RSA consistency check, which costs some 35 ms of CPU
per load (a call's whole budget) against about a millisecond to sign: every stored key passed
that check when it was stored (`account.secret_violations`, on create and rotate), and the
vault's authenticated encryption keeps a stored key from changing since.
"""

from __future__ import annotations

import time
import uuid

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

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
        key = load_pem_private_key(
            account.private_key.encode(), password=None, unsafe_skip_rsa_key_validation=True
        )
        if not isinstance(key, RSAPrivateKey):
            raise TypeError("not an RSA key")
        return jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError, UnsupportedAlgorithm, jwt.PyJWTError):
        # The library's message may quote the key it could not read: say only what failed.
        failure = FailedPrecondition(
            "the vonage credential's private_key is not an RSA private key that can sign",
            reason=PRIVATE_KEY_UNUSABLE,
            provider=PROVIDER,
        )
    raise failure
