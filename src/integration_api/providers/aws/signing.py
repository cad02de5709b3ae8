"""AWS Signature Version 4 for provider requests, computed by botocore.

See: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4.html.
Only the headers given here are signed (plus `host` and `x-amz-date`): the client adds others
(`accept-encoding`, `content-length`) that must stay out of the signature. The URL must be sent
exactly as signed, path already percent-encoded (botocore encodes it once more when signing,
as AWS expects for every service but S3).
"""

from __future__ import annotations

from collections.abc import Mapping

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from integration_api.credentials.model import AwsKeys


def sigv4_headers(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    keys: AwsKeys,
    region: str,
    service: str,
) -> dict[str, str]:
    """`headers` plus `Authorization`, `X-Amz-Date` (and the session token) for this request."""
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    credentials = Credentials(
        access_key=keys.access_key_id,
        secret_key=keys.secret_access_key,
        token=keys.session_token or None,
    )
    SigV4Auth(credentials, service, region).add_auth(request)
    return {str(name): str(value) for name, value in request.headers.items()}
