"""A fake Google OAuth token endpoint for service-account keys, and test keys to go with it.

The endpoint checks the `jwt-bearer` grant as Google does: the assertion's RS256 signature
against the public key of the account it names, `aud` equal to the endpoint, a scope, and a
lifetime of at most an hour. Refusals use Google's real error bodies.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.server import FakeServer, json_response

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_PATH = "/token"
BAD_SIGNATURE = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
BAD_TIMEFRAME = {
    "error": "invalid_grant",
    "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
    "reasonable timeframe. Check your iat and exp values in the JWT claim.",
}


@dataclass(frozen=True)
class FakeServiceAccount:
    """A service account with a freshly generated RSA key."""

    client_email: str
    private_key_id: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(
        cls, client_email: str = "ci@fake-project.iam.gserviceaccount.com"
    ) -> FakeServiceAccount:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(client_email, secrets.token_hex(20), key)

    def private_key_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def key_file(
        self, token_uri: str, *, project_id: str = "fake-project", private_key_id: str = ""
    ) -> str:
        """The JSON key file Google would hand out for this account."""
        return json.dumps(
            {
                "type": "service_account",
                "project_id": project_id,
                "private_key_id": private_key_id or self.private_key_id,
                "private_key": self.private_key_pem(),
                "client_email": self.client_email,
                "client_id": "100000000000000000001",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": token_uri,
            }
        )


def fresh_token() -> dict[str, object]:
    """What Google issues: a new `ya29.` access token that lives about an hour."""
    return {"access_token": "ya29.fake-" + secrets.token_urlsafe(24), "expires_in": 3599}


TokenIssuer = Callable[[], dict[str, object]]


def install_token_endpoint(
    server: FakeServer,
    accounts: list[FakeServiceAccount],
    issue: TokenIssuer = fresh_token,
    delay_seconds: float = 0.0,
) -> None:
    """Serve `POST /token`, issuing `issue()` to assertions signed by one of `accounts`.

    `delay_seconds` holds each answer back, so that callers can pile up behind one exchange.
    """
    public_keys = {account.client_email: account.private_key.public_key() for account in accounts}

    async def handle(request: web.Request) -> web.Response:
        form = {
            name: values[0] for name, values in parse_qs((await request.read()).decode()).items()
        }
        if form.get("grant_type") != JWT_BEARER_GRANT:
            return json_response(
                400,
                {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: "},
            )
        await asyncio.sleep(delay_seconds)
        refusal = _refusal(form.get("assertion", ""), server.url + TOKEN_PATH, public_keys)
        return refusal or json_response(200, {**issue(), "token_type": "Bearer"})

    server.route("POST", TOKEN_PATH, handle)


def _refusal(
    assertion: str, audience: str, public_keys: dict[str, rsa.RSAPublicKey]
) -> web.Response | None:
    """Google's answer to an assertion it refuses, or None when it accepts it."""
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return json_response(400, {"error": "invalid_grant", "error_description": "Invalid JWT."})
    public_key = public_keys.get(str(unverified.get("iss")))
    if public_key is None:
        return json_response(
            400, {"error": "invalid_grant", "error_description": "Invalid grant: account not found"}
        )
    try:
        claims = jwt.decode(
            assertion,
            public_key,
            algorithms=["RS256"],
            audience=audience,
            options={"require": ["iss", "aud", "iat", "exp"]},
        )
    except jwt.InvalidSignatureError:
        return json_response(400, BAD_SIGNATURE)
    except jwt.PyJWTError:
        return json_response(400, BAD_TIMEFRAME)
    if int(claims["exp"]) - int(claims["iat"]) > 3600:
        return json_response(400, BAD_TIMEFRAME)
    if not claims.get("scope"):
        return json_response(
            400,
            {
                "error": "invalid_scope",
                "error_description": "Invalid OAuth scope or ID token audience provided.",
            },
        )
    return None
