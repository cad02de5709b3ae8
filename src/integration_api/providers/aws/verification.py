"""AWS Bedrock: authentication (SigV4, or a Bedrock API key) and the credential check.

A credential holds either AWS keys (an access key pair, with a session token for temporary
keys), whose requests are signed with SigV4 for the service `bedrock` and the credential's
region, or a Bedrock API key (an `api_key` secret), sent as `Authorization: Bearer` the way
`AWS_BEARER_TOKEN_BEDROCK` is by AWS's SDKs.

See: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListFoundationModels.html.
The check is `GET /foundation-models` on the regional control plane, signed for the service
`bedrock`. Refusals are 403 with the code in `x-amzn-ErrorType`:
`UnrecognizedClientException` (unknown access key), `InvalidSignatureException` (wrong
secret), `ExpiredTokenException` (expired session) mean `invalid`; `AccessDeniedException`
means the keys are genuine but not allowed to list models, which is `valid` with that said.
"""

from __future__ import annotations

from integration_api.credentials.model import ApiKey, ProviderCredential
from integration_api.errors import InvalidArgument, ServiceError
from integration_api.providers.aws.signing import sigv4_headers
from integration_api.providers.endpoints import REGION_FIELD, join_url, resolve_base_url
from integration_api.providers.key_material import SECRET_FIELD, aws_keys_of
from integration_api.providers.verification import HttpProbe, ProbeRequest, Verdict

PROVIDER = "bedrock"
SIGNING_SERVICE = "bedrock"


def signed_headers(
    credential: ProviderCredential, method: str, url: str, body: bytes, content_type: str = ""
) -> dict[str, str]:
    """The SigV4 headers of one Bedrock request, for the credential's keys and region."""
    if not credential.config.region:
        raise InvalidArgument.for_field(REGION_FIELD, "is required for bedrock")
    headers = {"Content-Type": content_type} if content_type else {}
    return sigv4_headers(
        method=method,
        url=url,
        headers=headers,
        body=body,
        keys=aws_keys_of(credential),
        region=credential.config.region,
        service=SIGNING_SERVICE,
    )


def bedrock_headers(
    credential: ProviderCredential, method: str, url: str, body: bytes, content_type: str = ""
) -> dict[str, str]:
    """The authentication headers of one Bedrock request: a bearer API key, else SigV4."""
    secret = credential.secret
    if isinstance(secret, ApiKey):
        if not secret.key:
            raise InvalidArgument.for_field(SECRET_FIELD, "the API key is empty")
        headers = {"Content-Type": content_type} if content_type else {}
        return {**headers, "Authorization": f"Bearer {secret.key}"}
    return signed_headers(credential, method, url, body, content_type)


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    url = join_url(resolve_base_url(PROVIDER, credential.config), "foundation-models")
    return ProbeRequest("GET", url, bedrock_headers(credential, "GET", url, b""))


def read_access_denied(error: ServiceError) -> Verdict | None:
    if error.metadata.get("provider_error_type") == "AccessDeniedException":
        return Verdict(
            "valid",
            "aws accepted the keys; they may not call bedrock:ListFoundationModels",
        )
    return None


VERIFIER = HttpProbe(PROVIDER, verification_request, read_refusal=read_access_denied)
