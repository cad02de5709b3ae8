"""SigV4 checked the way AWS does, for fakes of Bedrock (its control plane, and its runtime
through the replay server).

The signature is recomputed with botocore from what arrived (method, path, query, the signed
headers, the body, the date of `X-Amz-Date`) and the secret of the access key it names.
Refusals carry AWS's real codes in `x-amzn-ErrorType` and its real messages.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.fakes.server import FakeServer, json_response

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key_id>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[^,]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)
UNRECOGNIZED_CLIENT = "The security token included in the request is invalid."
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
AMAZON_ERROR_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


@dataclass(frozen=True)
class AwsAccount:
    access_key_id: str
    secret_access_key: str
    session_token: str = ""
    # Known keys whose IAM policy does not allow listing models.
    may_list_models: bool = True


def aws_error(status: int, code: str, message: str) -> web.Response:
    return json_response(
        status, {"message": message}, headers={"x-amzn-ErrorType": code + AMAZON_ERROR_SUFFIX}
    )


def expected_signature(request: web.Request, body: bytes, secret: str, match: re.Match[str]) -> str:
    signed_names = match["signed"].split(";")
    headers = {name: request.headers.get(name, "") for name in signed_names}
    aws_request = AWSRequest(
        method=request.method,
        url=f"http://{request.headers['Host']}{request.raw_path}",
        headers=headers,
        data=body,
    )
    aws_request.context["timestamp"] = request.headers.get("X-Amz-Date", "")
    auth = SigV4Auth(Credentials("unused", secret), match["service"], match["region"])
    canonical = auth.canonical_request(aws_request)
    return str(auth.signature(auth.string_to_sign(aws_request, canonical), aws_request))


def refusal_for(
    request: web.Request,
    body: bytes,
    accounts: list[AwsAccount],
    region: str,
    bearer_tokens: frozenset[str] = frozenset(),
) -> web.Response | None:
    """AWS's refusal of a request that no account signed for `region` (None: it is signed).

    A Bedrock API key (`Authorization: Bearer`) in `bearer_tokens` is accepted too.
    """
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        if authorization.removeprefix("Bearer ") in bearer_tokens:
            return None
        return aws_error(403, "UnrecognizedClientException", UNRECOGNIZED_CLIENT)
    match = _AUTHORIZATION.match(authorization)
    if match is None:
        return aws_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    account = {account.access_key_id: account for account in accounts}.get(match["key_id"])
    token = request.headers.get("X-Amz-Security-Token", "")
    if account is None or token != account.session_token:
        return aws_error(403, "UnrecognizedClientException", UNRECOGNIZED_CLIENT)
    if match["service"] != "bedrock" or match["region"] != region:
        return aws_error(
            403, "InvalidSignatureException", "Credential should be scoped to a valid region."
        )
    expected = expected_signature(request, body, account.secret_access_key, match)
    if not hmac.compare_digest(expected, match["signature"]):
        return aws_error(403, "InvalidSignatureException", BAD_SIGNATURE)
    return None


def signing_account(request: web.Request, accounts: list[AwsAccount]) -> AwsAccount | None:
    """The account whose access key signed `request` (after `refusal_for` found none)."""
    match = _AUTHORIZATION.match(request.headers.get("Authorization", ""))
    if match is None:
        return None
    return next((item for item in accounts if item.access_key_id == match["key_id"]), None)


# The accounts the replay server's Bedrock accepts: plain keys, temporary keys, an API key.
BEDROCK_REPLAY_REGION = "us-east-1"
BEDROCK_REPLAY_ACCOUNT = AwsAccount(
    "AKIAREPLAYBEDROCK001", "replay/Secret+Key0123456789abcdefEXAMPLE"
)
BEDROCK_REPLAY_TEMPORARY = AwsAccount(
    "ASIAREPLAYBEDROCK002",
    "replay/Temporary+Key0123456789abcdEXAMPLE",
    session_token="IQoJb3JpZ2luX2VjEReplaySessionToken0123456789",
)
BEDROCK_REPLAY_API_KEY = "ABSKQmVkcm9ja0FQSUtleS1yZXBsYXk6cmVwbGF5LWtleS0wMTIzNDU2Nzg5"


def bedrock_replay_refusal(request: web.Request, body: bytes) -> web.Response | None:
    """What the replay server's Bedrock answers a request none of its accounts signed."""
    return refusal_for(
        request,
        body,
        [BEDROCK_REPLAY_ACCOUNT, BEDROCK_REPLAY_TEMPORARY],
        BEDROCK_REPLAY_REGION,
        frozenset({BEDROCK_REPLAY_API_KEY}),
    )


def install_bedrock_control_plane(
    server: FakeServer,
    accounts: list[AwsAccount],
    region: str,
    bearer_tokens: frozenset[str] = frozenset(),
) -> None:
    """Serve `GET /foundation-models` to requests signed by one of `accounts` for `region`
    (or carrying one of `bearer_tokens`)."""

    async def handle(request: web.Request) -> web.Response:
        refusal = refusal_for(request, await request.read(), accounts, region, bearer_tokens)
        if refusal is not None:
            return refusal
        account = signing_account(request, accounts)
        if account is not None and not account.may_list_models:
            return aws_error(
                403,
                "AccessDeniedException",
                "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
                "bedrock:ListFoundationModels",
            )
        summary = {
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
            "providerName": "Anthropic",
            "inputModalities": ["TEXT", "IMAGE"],
            "outputModalities": ["TEXT"],
        }
        return json_response(200, {"modelSummaries": [summary]})

    server.route("GET", "/foundation-models", handle)
