"""AssemblyAI: authentication, the streaming host, and the credential check.

See: https://www.assemblyai.com/docs/api-reference/transcripts/list.
The key goes bare in `Authorization` (no scheme), on REST and on the streaming socket alike.
Listing one transcript is the cheapest authenticated call; a missing and a wrong key both
answer 401. Streaming lives on its own host (`streaming.assemblyai.com`, EU
`streaming.eu.assemblyai.com`) beside the REST one a credential's `base_url` names.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.verification import HttpProbe, ProbeRequest

PROVIDER = "assemblyai"
API_VERSION = "2025-05-12"


def assemblyai_headers(credential: ProviderCredential) -> dict[str, str]:
    return {"Authorization": api_key_of(credential), "AssemblyAI-Version": API_VERSION}


def streaming_base_url(credential: ProviderCredential) -> str:
    """The streaming host beside the REST one (any other base URL serves both)."""
    base = resolve_base_url(PROVIDER, credential.config)
    parts = urlsplit(base)
    host = parts.hostname or ""
    if host.startswith("api.") and host.endswith("assemblyai.com"):
        netloc = "streaming." + parts.netloc.removeprefix("api.")  # the port stays
        return urlunsplit(parts._replace(netloc=netloc))
    return base


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    url = join_url(resolve_base_url(PROVIDER, credential.config), "v2/transcript")
    return ProbeRequest("GET", url, assemblyai_headers(credential), params={"limit": "1"})


VERIFIER = HttpProbe(PROVIDER, verification_request)
