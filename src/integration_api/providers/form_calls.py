"""Form-encoded requests (Twilio, Exotel) through the one transport."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import ErrorClassifier
from integration_api.providers.transport import ProviderResponse, send_json

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


async def send_form(
    http: ProviderClient,
    url: str,
    form: Sequence[tuple[str, str]],
    *,
    provider: str,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    classify_error: ErrorClassifier,
) -> ProviderResponse:
    """POST `form` (a name may repeat) and return the JSON answer."""
    return await send_json(
        http,
        "POST",
        url,
        provider=provider,
        headers={**headers, "Content-Type": FORM_CONTENT_TYPE},
        content=urlencode(list(form)).encode(),
        secrets=secrets,
        classify_error=classify_error,
    )
