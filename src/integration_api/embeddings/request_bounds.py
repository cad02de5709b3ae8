"""What an Embed request may ask for, checked before any provider is called.

Inputs and their characters are capped (each provider call is billed to the tenant's key, and
a request is split into many calls), and the answer must fit the gRPC message limit: refusing
up front costs nothing, while failing on the answer would come after every call was paid for.
The answer's size is estimated from the dimensions: the requested ones, or the published ones
of well-known models; for other models the first batch's answer tells (see the pipeline).
"""

from __future__ import annotations

from integration_api.embeddings.contract import EmbedRequest
from integration_api.errors import InvalidArgument
from integration_api.upstream.limits import UpstreamLimits

# A float travels as 4 bytes (packed float32); each embedding adds its index and framing.
_BYTES_PER_VALUE = 4
_BYTES_PER_EMBEDDING = 16
# The model name and usage around the embeddings.
_ENVELOPE_BYTES = 1024

# Published output sizes of widely used models (their defaults when `dimensions` is not set).
KNOWN_DIMENSIONS: dict[str, int] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
    "mistral-embed": 1024,
    "codestral-embed": 1536,
    "nomic-embed-text": 768,
    "BAAI/bge-small-en-v1.5": 384,
    "BAAI/bge-base-en-v1.5": 768,
    "BAAI/bge-large-en-v1.5": 1024,
    "BAAI/bge-m3": 1024,
    "sentence-transformers/all-MiniLM-L6-v2": 384,
    "sentence-transformers/all-mpnet-base-v2": 768,
}


def check_request_size(request: EmbedRequest, limits: UpstreamLimits) -> None:
    """Refuse more inputs, or more characters, than one request may carry (INVALID_ARGUMENT)."""
    count = len(request.inputs)
    if count > limits.max_embed_inputs:
        raise InvalidArgument.for_field(
            "inputs", f"has {count} texts; at most {limits.max_embed_inputs} are allowed"
        )
    characters = sum(len(text) for text in request.inputs)
    if characters > limits.max_embed_characters:
        raise InvalidArgument.for_field(
            "inputs",
            f"has {characters} characters in all; at most {limits.max_embed_characters} "
            "are allowed",
        )


def expected_dimensions(request: EmbedRequest, model: str) -> int | None:
    """The length of each vector, when known before calling the provider."""
    if request.dimensions is not None:
        return request.dimensions
    return KNOWN_DIMENSIONS.get(model)


def answer_bytes(inputs: int, dimensions: int) -> int:
    """An upper estimate of the EmbedResponse's encoded size."""
    return inputs * (dimensions * _BYTES_PER_VALUE + _BYTES_PER_EMBEDDING) + _ENVELOPE_BYTES


def check_answer_fits(inputs: int, dimensions: int, max_message_bytes: int) -> None:
    """Refuse a request whose answer would exceed the gRPC message limit (INVALID_ARGUMENT)."""
    size = answer_bytes(inputs, dimensions)
    if size > max_message_bytes:
        per_embedding = dimensions * _BYTES_PER_VALUE + _BYTES_PER_EMBEDDING
        fitting = max(1, (max_message_bytes - _ENVELOPE_BYTES) // per_embedding)
        raise InvalidArgument.for_field(
            "inputs",
            f"{inputs} vectors of {dimensions} values make an answer of about {size} bytes, "
            f"more than the message limit of {max_message_bytes}; send at most {fitting} "
            "texts per request",
        )
