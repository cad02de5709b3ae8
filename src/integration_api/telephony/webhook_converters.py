"""ValidateWebhook's messages to and from the domain's webhook and verdict.

The request is bounded before anything else happens: a URL, method, headers and body are what a
provider sends, not kilobytes of headers, a URL no provider would call, or megabytes of form
fields to parse and sort on the event loop (the caller forwards whatever its public webhook
endpoint received, so anyone on the internet chooses the body).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from integration_api_proto.integration.v1 import (
    ValidateWebhookRequest,
    ValidateWebhookResponse,
    WebhookRejection,
)

from integration_api.errors import InvalidArgument
from integration_api.telephony.webhooks import Rejection, Webhook, WebhookVerdict

METHODS = frozenset({"GET", "POST"})
MAX_URL_CHARACTERS = 8192
MAX_HEADERS = 128
MAX_HEADER_NAME_CHARACTERS = 256
MAX_HEADER_VALUE_CHARACTERS = 16384
# Providers' webhooks are a few kilobytes (an event, a message of at most a few thousand
# characters); a 4 MiB form would hold the event loop for seconds.
MAX_BODY_BYTES = 256 * 1024

_REJECTIONS = {rejection: WebhookRejection[rejection.name] for rejection in Rejection}


def webhook_from_request(request: ValidateWebhookRequest) -> Webhook:
    """The webhook the request describes, after its bounds are checked."""
    if not request.credential_id:
        raise InvalidArgument.for_field("credential_id", "is required")
    method = request.method.strip().upper()
    if method not in METHODS:
        raise InvalidArgument.for_field("method", "must be GET or POST")
    _check_url(request.url)
    if len(request.headers) > MAX_HEADERS:
        raise InvalidArgument.for_field("headers", f"at most {MAX_HEADERS} headers")
    headers: dict[str, str] = {}
    for index, header in enumerate(request.headers):
        name = header.name.strip().lower()
        if not name or len(name) > MAX_HEADER_NAME_CHARACTERS:
            raise InvalidArgument.for_field(
                f"headers[{index}].name", f"must be 1 to {MAX_HEADER_NAME_CHARACTERS} characters"
            )
        if len(header.value) > MAX_HEADER_VALUE_CHARACTERS:
            raise InvalidArgument.for_field(
                f"headers[{index}].value",
                f"must be at most {MAX_HEADER_VALUE_CHARACTERS} characters",
            )
        # The first of a repeated header is the one an HTTP framework hands over.
        headers.setdefault(name, header.value.strip())
    if len(request.body) > MAX_BODY_BYTES:
        raise InvalidArgument.for_field(
            "body", f"must be at most {MAX_BODY_BYTES} bytes: no provider sends a larger webhook"
        )
    return Webhook(method, request.url, headers, bytes(request.body))


def _check_url(url: str) -> None:
    if not url:
        raise InvalidArgument.for_field("url", "is required: the full URL the provider called")
    if len(url) > MAX_URL_CHARACTERS:
        raise InvalidArgument.for_field("url", f"must be at most {MAX_URL_CHARACTERS} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise InvalidArgument.for_field("url", "is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument.for_field(
            "url", "must be absolute: the scheme and host the provider called, then path and query"
        )


def response_from_verdict(verdict: WebhookVerdict) -> ValidateWebhookResponse:
    if verdict.rejection is None:
        return ValidateWebhookResponse(valid=True, signed_at=verdict.signed_at)
    return ValidateWebhookResponse(
        valid=False,
        rejection=_REJECTIONS[verdict.rejection],
        reason=verdict.rejection.value,
        detail=verdict.detail,
        signed_at=verdict.signed_at,
    )
