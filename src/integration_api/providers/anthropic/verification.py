"""Anthropic: authentication and the credential check.

See: https://docs.claude.com/en/api/models-list, https://docs.claude.com/en/api/errors.
A bad key answers 401 `authentication_error`; 529 `overloaded_error` is retryable like a 5xx.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.verification import HttpProbe, ProbeRequest

PROVIDER = "anthropic"
ANTHROPIC_VERSION = "2023-06-01"


def anthropic_headers(credential: ProviderCredential) -> dict[str, str]:
    """Every Anthropic call needs the key and the API version it speaks."""
    return {"x-api-key": api_key_of(credential), "anthropic-version": ANTHROPIC_VERSION}


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    url = join_url(resolve_base_url(PROVIDER, credential.config), "v1/models")
    return ProbeRequest("GET", url, anthropic_headers(credential), {"limit": "1"})


VERIFIER = HttpProbe(PROVIDER, verification_request)
