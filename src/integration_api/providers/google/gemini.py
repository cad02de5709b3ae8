"""Google Gemini API (AI Studio): authentication, its error quirk and the credential check.

See: https://ai.google.dev/api/models#method:-models.list,
https://ai.google.dev/gemini-api/docs/troubleshooting.
The key travels in the `x-goog-api-key` header, never in `?key=`, so it stays out of URLs (and
so out of every log line and exception text that quotes one). A bad key is answered with
400 `INVALID_ARGUMENT` carrying `ErrorInfo.reason = "API_KEY_INVALID"`, not with 401.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import ServiceError
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_errors import (
    ErrorResponse,
    credential_rejected,
    google_error_reasons,
)
from integration_api.providers.key_material import api_key_of
from integration_api.providers.verification import HttpProbe, ProbeRequest

PROVIDER = "gemini"
API_VERSION = "v1beta"
_REJECTED_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED"})


def gemini_headers(credential: ProviderCredential) -> dict[str, str]:
    return {"x-goog-api-key": api_key_of(credential)}


def classify_google_error(response: ErrorResponse) -> ServiceError | None:
    """Google reports a bad or expired API key as 400; that is a refused credential."""
    if response.status_code == 400 and google_error_reasons(response.body) & _REJECTED_KEY_REASONS:
        return credential_rejected(response)
    return None


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    url = join_url(resolve_base_url(PROVIDER, credential.config), f"{API_VERSION}/models")
    return ProbeRequest("GET", url, gemini_headers(credential), {"pageSize": "1"})


VERIFIER = HttpProbe(PROVIDER, verification_request, classify_error=classify_google_error)
