"""ElevenLabs: authentication and the credential check.

See: https://elevenlabs.io/docs/api-reference/user/get.
A key scoped without `user_read` is refused by `/v1/user` with 401 `missing_permissions`: the
key itself is genuine, so that refusal means `valid` (with the limitation in the message);
`invalid_api_key` means the key is not.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import ServiceError
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_errors import CREDENTIAL_REJECTED
from integration_api.providers.key_material import api_key_of
from integration_api.providers.verification import HttpProbe, ProbeRequest, Verdict

PROVIDER = "elevenlabs"


def elevenlabs_headers(credential: ProviderCredential) -> dict[str, str]:
    return {"xi-api-key": api_key_of(credential)}


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    url = join_url(resolve_base_url(PROVIDER, credential.config), "v1/user")
    return ProbeRequest("GET", url, elevenlabs_headers(credential))


def read_scoped_key(error: ServiceError) -> Verdict | None:
    scoped = error.metadata.get("provider_error_type") == "missing_permissions"
    if error.reason == CREDENTIAL_REJECTED and scoped:
        return Verdict("valid", "elevenlabs accepted the key, which lacks the user_read permission")
    return None


VERIFIER = HttpProbe(PROVIDER, verification_request, read_refusal=read_scoped_key)
