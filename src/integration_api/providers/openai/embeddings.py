"""Embeddings for the OpenAI wire family and Hugging Face feature extraction, one adapter each.

| variant           | URL (after the base URL)                              | per call     |
| ----------------- | ----------------------------------------------------- | ------------ |
| openai            | /embeddings                                           | 2048, 300 kB |
| azure-openai      | /openai/deployments/{model}/embeddings?api-version    | 2048, 300 kB |
| mistral           | /embeddings                                           | 128, 16 kB   |
| openai-compatible | /embeddings                                           | 256, 300 kB  |
| huggingface       | /hf-inference/models/{model}/pipeline/feature-extraction | 32, 100 kB |

`dimensions` is sent as `dimensions` (Mistral: `output_dimension`). `input_type` becomes
Hugging Face's `prompt_name` (`query`, `document`); the OpenAI-style APIs have no such notion
and refuse it with INVALID_ARGUMENT.

Vectors travel as base64 float32 where the provider offers it (decoding is far cheaper than
parsing JSON numbers); OpenAI-compatible servers get `float`, which all of them understand.
Limits are OpenAI's documented ones (2048 inputs, 300k tokens); the others are kept small
because their limits are not published. A token is never shorter than one byte, so a byte
budget bounds the tokens of a call without a tokenizer.

See: https://platform.openai.com/docs/api-reference/embeddings/create,
https://docs.mistral.ai/api/#tag/embeddings,
https://huggingface.co/docs/inference-providers/tasks/feature-extraction.
"""

from __future__ import annotations

import array
import base64
import binascii
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

from integration_api.credentials.model import ProviderCredential
from integration_api.embeddings.contract import (
    BatchLimits,
    EmbedBatch,
    EmbedBatchResult,
    InputType,
)
from integration_api.errors import InvalidArgument, Unavailable
from integration_api.llm.contract import Usage
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.openai import family as openai_family
from integration_api.providers.openai.chat import (
    Route,
    azure_default_model,
    azure_resource_route,
    configured_default_model,
)
from integration_api.providers.openai.family import OpenAIVariant
from integration_api.providers.sanitize import secret_values
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE, UpstreamTimer
from integration_api.providers.transport import ProviderResponse, send_json

JsonObject = dict[str, object]
# A Hub model id as it appears in a URL path: `org/name`, no dot segments.
_HUB_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,95}(?:/[A-Za-z0-9][A-Za-z0-9._\-]{0,95})?")


def _bad_answer(provider: str, what: str) -> Unavailable:
    return Unavailable(f"{provider} {what}", reason=PROVIDER_BAD_RESPONSE, provider=provider)


def decode_vector(value: object, provider: str) -> list[float]:
    """One embedding as a list of floats, from JSON numbers or base64 little-endian float32."""
    if isinstance(value, list):
        if all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in value):
            return [float(item) for item in value]
    elif isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b"\x00"
        if len(raw) % 4 == 0:
            floats = array.array("f", raw)
            if sys.byteorder == "big":
                floats.byteswap()
            return floats.tolist()
    raise _bad_answer(provider, "sent an embedding that is not a vector of numbers")


def _usage(body: JsonObject) -> Usage:
    usage = body.get("usage")
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    if isinstance(tokens, int) and not isinstance(tokens, bool):
        return Usage(input_tokens=tokens)
    return Usage()


def read_openai_embeddings(body: object, batch: EmbedBatch, provider: str) -> EmbedBatchResult:
    """The vectors of an OpenAI-style answer, put in input order by their `index`."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(data, list) or len(data) != len(batch.inputs):
        raise _bad_answer(provider, "did not answer with one embedding per input")
    vectors: list[list[float] | None] = [None] * len(data)
    for position, item in enumerate(data):
        index = item.get("index", position) if isinstance(item, dict) else None
        if not isinstance(index, int) or not 0 <= index < len(vectors) or vectors[index]:
            raise _bad_answer(provider, "answered with embedding indexes that do not match")
        vectors[index] = decode_vector(item.get("embedding"), provider)
    model = body.get("model")
    return EmbedBatchResult(
        vectors=[vector for vector in vectors if vector is not None],
        usage=_usage(body),
        model=model if isinstance(model, str) and model else batch.model,
    )


async def post_embedding_request(
    http: ProviderClient,
    access: OpenAIVariant,
    credential: ProviderCredential,
    route: Route,
    body: JsonObject,
    timer: UpstreamTimer,
) -> ProviderResponse:
    """POST one batch to the credential's endpoint, counting the wait as the provider's time."""
    url, params = route
    with timer.waiting():
        return await send_json(
            http,
            "POST",
            url,
            provider=access.provider,
            headers=access.headers(credential),
            params=params,
            json_body=body,
            secrets=secret_values(credential.secret),
        )


@dataclass(frozen=True)
class OpenAIEmbeddingModel:
    """An `EmbeddingModel` for one member of the OpenAI family."""

    access: OpenAIVariant
    limits: BatchLimits
    route: Callable[[ProviderCredential, str], Route]
    dimensions_field: str = "dimensions"
    encoding_format: str = "base64"
    default_model_of: Callable[[ProviderCredential], str] = configured_default_model

    @property
    def provider(self) -> str:
        return self.access.provider

    def default_model(self, credential: ProviderCredential) -> str:
        return self.default_model_of(credential)

    def body(self, batch: EmbedBatch) -> JsonObject:
        if batch.input_type is not None:
            raise InvalidArgument.for_field(
                "input_type", f"{self.provider} embeddings do not distinguish queries and documents"
            )
        body: JsonObject = {
            "model": batch.model,
            "input": list(batch.inputs),
            "encoding_format": self.encoding_format,
        }
        if batch.dimensions is not None:
            body[self.dimensions_field] = batch.dimensions
        return body

    async def embed(
        self,
        credential: ProviderCredential,
        batch: EmbedBatch,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> EmbedBatchResult:
        url, params = self.route(credential, batch.model)
        response = await post_embedding_request(
            http, self.access, credential, (url, params), self.body(batch), timer
        )
        return read_openai_embeddings(response.body, batch, self.provider)


_FEATURE_EXTRACTION_PROMPTS = {InputType.QUERY: "query", InputType.DOCUMENT: "document"}


def huggingface_route(credential: ProviderCredential, model: str) -> Route:
    if not _HUB_MODEL.fullmatch(model):
        raise InvalidArgument.for_field("model", "must be a Hub model id such as org/name")
    base = resolve_base_url(credential.provider, credential.config)
    return join_url(base, f"hf-inference/models/{model}/pipeline/feature-extraction"), {}


def read_feature_extraction(body: object, batch: EmbedBatch, provider: str) -> EmbedBatchResult:
    """Feature extraction answers a nested list; a single input may come back flat."""
    rows = body if isinstance(body, list) else None
    if rows and all(isinstance(value, (int, float)) for value in rows) and len(batch.inputs) == 1:
        rows = [rows]
    if rows is None or len(rows) != len(batch.inputs):
        raise _bad_answer(provider, "did not answer with one embedding per input")
    if any(isinstance(row, list) and row and isinstance(row[0], list) for row in rows):
        raise InvalidArgument.for_field(
            "model", "returns one vector per token, not one per text; choose an embedding model"
        )
    return EmbedBatchResult([decode_vector(row, provider) for row in rows], Usage(), batch.model)


@dataclass(frozen=True)
class FeatureExtractionModel:
    """Hugging Face's `feature-extraction` task through the Inference Providers router."""

    access: OpenAIVariant
    limits: BatchLimits

    @property
    def provider(self) -> str:
        return self.access.provider

    def default_model(self, credential: ProviderCredential) -> str:
        return configured_default_model(credential)

    def body(self, batch: EmbedBatch) -> JsonObject:
        body: JsonObject = {"inputs": list(batch.inputs)}
        if batch.input_type is not None:
            # Selects the sentence-transformers prompt of that name, when the model defines it.
            body["prompt_name"] = _FEATURE_EXTRACTION_PROMPTS[batch.input_type]
        if batch.dimensions is not None:
            body["dimensions"] = batch.dimensions
        return body

    async def embed(
        self,
        credential: ProviderCredential,
        batch: EmbedBatch,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> EmbedBatchResult:
        url, params = huggingface_route(credential, batch.model)
        response = await post_embedding_request(
            http, self.access, credential, (url, params), self.body(batch), timer
        )
        return read_feature_extraction(response.body, batch, self.provider)


def _versioned_route(credential: ProviderCredential, model: str) -> Route:
    return join_url(resolve_base_url(credential.provider, credential.config), "embeddings"), {}


def _azure_route(credential: ProviderCredential, model: str) -> Route:
    return azure_resource_route(credential, model, "embeddings")


_OPENAI_LIMITS = BatchLimits(max_inputs=2048, max_bytes=300_000)

OPENAI = OpenAIEmbeddingModel(openai_family.OPENAI, _OPENAI_LIMITS, _versioned_route)
AZURE_OPENAI = OpenAIEmbeddingModel(
    openai_family.AZURE_OPENAI,
    _OPENAI_LIMITS,
    _azure_route,
    default_model_of=azure_default_model,
)
MISTRAL = OpenAIEmbeddingModel(
    openai_family.MISTRAL,
    BatchLimits(max_inputs=128, max_bytes=16_000),
    _versioned_route,
    dimensions_field="output_dimension",
)
OPENAI_COMPATIBLE = OpenAIEmbeddingModel(
    openai_family.OPENAI_COMPATIBLE,
    BatchLimits(max_inputs=256, max_bytes=300_000),
    _versioned_route,
    encoding_format="float",
)
HUGGINGFACE = FeatureExtractionModel(
    openai_family.HUGGINGFACE, BatchLimits(max_inputs=32, max_bytes=100_000)
)
