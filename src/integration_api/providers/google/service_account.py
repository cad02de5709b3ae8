"""Google service-account keys: the signed JWT assertion and its exchange for an access token.

See: https://developers.google.com/identity/protocols/oauth2/service-account#httprest.
The assertion is an RS256 JWT (`kid` = `private_key_id`) with `iss` = the account's email,
`aud` = its `token_uri`, the requested `scope`, and a lifetime of at most one hour (Google
refuses longer). It is posted as the `jwt-bearer` grant; a refused key answers 400
`invalid_grant` ("Invalid JWT Signature.").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

import jwt

from integration_api.credentials.model import REDACTED, GcpServiceAccount, SecretMaterial
from integration_api.errors import FieldViolation, InvalidArgument, ServiceError, Unavailable
from integration_api.providers.endpoints import validate_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import ErrorResponse, credential_rejected
from integration_api.providers.key_material import SECRET_FIELD
from integration_api.providers.token_lifetime import lifetime_seconds
from integration_api.providers.transport import send_json

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 3600
_REQUIRED_FIELDS = ("project_id", "client_email", "private_key")
_REFUSED_GRANT_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


@dataclass(frozen=True, repr=False)
class ServiceAccountKey:
    """The fields of a service-account key file that the token exchange needs."""

    project_id: str
    client_email: str
    private_key_id: str
    private_key_pem: str
    token_uri: str

    def __repr__(self) -> str:
        return f"ServiceAccountKey({REDACTED})"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class AccessToken:
    """An OAuth access token and how long Google says it lives."""

    value: str
    expires_in_seconds: int

    def __repr__(self) -> str:
        return f"AccessToken({REDACTED})"

    __str__ = __repr__


def token_uri_of(secret: SecretMaterial) -> str:
    """The token endpoint a service-account key is exchanged at ('' for other secrets)."""
    if not isinstance(secret, GcpServiceAccount) or service_account_violations(secret):
        return ""
    token_uri = secret.parsed().get("token_uri", GOOGLE_TOKEN_URI)
    return token_uri if isinstance(token_uri, str) else ""


def service_account_violations(secret: GcpServiceAccount) -> list[FieldViolation]:
    """What is wrong with a service-account key file, as field violations (empty when usable)."""
    try:
        document = secret.parsed()
    except ValueError:
        return [FieldViolation(SECRET_FIELD, "the service-account key is not a JSON object")]
    problems = [
        f"the service-account key has no {name}"
        for name in _REQUIRED_FIELDS
        if not isinstance(document.get(name), str) or not document.get(name)
    ]
    if document.get("type", "service_account") != "service_account":
        problems.append("the key file is not of type service_account")
    token_uri = document.get("token_uri", GOOGLE_TOKEN_URI)
    token_uri_problem = validate_base_url(token_uri) if isinstance(token_uri, str) else "missing"
    if token_uri_problem is not None:
        problems.append(f"the service-account token_uri {token_uri_problem}")
    return [FieldViolation(SECRET_FIELD, problem) for problem in problems]


def parse_service_account(secret: GcpServiceAccount) -> ServiceAccountKey:
    """The key's fields, or `InvalidArgument` naming every problem of the key file."""
    violations = service_account_violations(secret)
    if violations:
        summary = "; ".join(violation.description for violation in violations)
        raise InvalidArgument(f"{SECRET_FIELD}: {summary}", violations)
    document = secret.parsed()
    return ServiceAccountKey(
        project_id=str(document["project_id"]),
        client_email=str(document["client_email"]),
        private_key_id=str(document.get("private_key_id", "")),
        private_key_pem=str(document["private_key"]),
        token_uri=str(document.get("token_uri", GOOGLE_TOKEN_URI)),
    )


def build_assertion(
    account: ServiceAccountKey, *, scope: str = CLOUD_PLATFORM_SCOPE, now: int | None = None
) -> str:
    """The signed JWT that asks `account.token_uri` for an access token with `scope`."""
    issued_at = int(time.time()) if now is None else now
    claims = {
        "iss": account.client_email,
        "aud": account.token_uri,
        "scope": scope,
        "iat": issued_at,
        "exp": issued_at + ASSERTION_LIFETIME_SECONDS,
    }
    headers = {"kid": account.private_key_id} if account.private_key_id else None
    try:
        return jwt.encode(claims, account.private_key_pem, algorithm="RS256", headers=headers)
    except (ValueError, TypeError, jwt.PyJWTError):
        # The library's message may quote the key material: keep only the fact.
        raise InvalidArgument.for_field(
            SECRET_FIELD, "the service-account private_key is not a usable RSA key"
        ) from None


def classify_token_error(response: ErrorResponse) -> ServiceError | None:
    """A refused grant (bad signature, deleted key, disabled account) is a refused credential."""
    body = response.body
    error = body.get("error") if isinstance(body, dict) else None
    if response.status_code in (400, 401) and error in _REFUSED_GRANT_ERRORS:
        return credential_rejected(response)
    return None


async def exchange_for_access_token(
    account: ServiceAccountKey,
    http: ProviderClient,
    *,
    provider: str,
    scope: str = CLOUD_PLATFORM_SCOPE,
) -> AccessToken:
    """Trade a signed assertion for an access token at the account's own token endpoint."""
    assertion = build_assertion(account, scope=scope)
    form = urlencode({"grant_type": JWT_BEARER_GRANT, "assertion": assertion}).encode()
    response = await send_json(
        http,
        "POST",
        account.token_uri,
        provider=provider,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=form,
        secrets=(assertion, account.private_key_pem, account.private_key_id),
        classify_error=classify_token_error,
    )
    body = response.body if isinstance(response.body, dict) else {}
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise Unavailable(
            f"the {provider} token endpoint returned no access token", provider=provider
        )
    # Google always sends `expires_in`; without one, its documented hour.
    expires_in = lifetime_seconds(provider, body.get("expires_in"))
    return AccessToken(value=token, expires_in_seconds=int(expires_in or 3600))
