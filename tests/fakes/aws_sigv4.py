"""A fake Bedrock control plane that checks SigV4 signatures the way AWS does.

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


def install_bedrock_control_plane(
    server: FakeServer, accounts: list[AwsAccount], region: str
) -> None:
    """Serve `GET /foundation-models` to requests signed by one of `accounts` for `region`."""
    by_key_id = {account.access_key_id: account for account in accounts}

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        match = _AUTHORIZATION.match(request.headers.get("Authorization", ""))
        if match is None:
            return aws_error(
                403, "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        account = by_key_id.get(match["key_id"])
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
        if not account.may_list_models:
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
