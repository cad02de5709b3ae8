"""The kinds of error an upstream call ends with that the pipelines, too, speak of.

`providers.http_errors` turns a provider's HTTP error answer into these; a pipeline words a
provider's 404 to name the model it asked for and tells a rejected credential from other
refusals, without depending on how the answer was read.
"""

from __future__ import annotations

from integration_api.errors import NotFound, ServiceError

CREDENTIAL_REJECTED = "CREDENTIAL_REJECTED"
MODEL_NOT_FOUND = "MODEL_NOT_FOUND"
# Set on every error the provider answered (never before a request).
PROVIDER_HTTP_STATUS = "provider_http_status"
PROVIDER_REJECTED_REQUEST = "PROVIDER_REJECTED_REQUEST"
QUOTA_EXHAUSTED = "QUOTA_EXHAUSTED"
# How a provider's 404 is worded before a model call rewords it.
NO_SUCH_RESOURCE = "found no such resource"
# A model name is the caller's text: quoted whole up to this length, never unbounded.
_MAX_QUOTED_MODEL = 200


def naming_the_model(error: ServiceError, model: str) -> ServiceError:
    """A provider's 404 to a call for `model`, worded to name it; any other error as it is.

    `model "gpt-9" not found at openai (HTTP 404): <the provider's words>`, with the reason
    MODEL_NOT_FOUND and the model in the metadata: a chat, embeddings or rerank call names one
    model, and an unknown model is by far the commonest reason such a call finds nothing.
    """
    if not (isinstance(error, NotFound) and error.metadata.get(PROVIDER_HTTP_STATUS) == "404"):
        return error
    provider = error.provider or "the provider"
    generic = f"{provider} {NO_SUCH_RESOURCE} (HTTP 404)"
    said = error.message.removeprefix(generic).removeprefix(": ")
    quoted = model[:_MAX_QUOTED_MODEL]
    text = f'model "{quoted}" not found at {provider} (HTTP 404)' + (f": {said}" if said else "")
    return NotFound(
        text,
        reason=MODEL_NOT_FOUND,
        provider=error.provider,
        metadata={**error.metadata, "model": quoted},
    )
