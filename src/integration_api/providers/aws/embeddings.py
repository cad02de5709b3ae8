"""Embeddings through Bedrock's InvokeModel: `POST /model/{modelId}/invoke`, signed like chat.

| model family                         | one call carries           | body                        |
| ------------------------------------ | -------------------------- | --------------------------- |
| Titan Text Embeddings                | one text (a batch's texts  | `inputText`, `dimensions`,  |
| (`amazon.titan-embed-text-v2:0`, v1) | go a few at a time)        | `normalize: true`           |
| Cohere Embed (`cohere.embed-*`)      | up to 96 texts             | `texts`, `input_type`,      |
|                                      |                            | `embedding_types: [float]`  |

Titan v2 takes 256, 512 or 1024 dimensions and returns unit vectors (`normalize: true`, its
default, sent so the answer does not depend on it); v1 takes no dimensions. Titan has no input
type; Cohere requires one (`search_query` / `search_document`): a request without it is refused
rather than guessed. Only Cohere's v4 models take `output_dimension`. Token counts come from
Titan's `inputTextTokenCount`, and for Cohere from the `X-Amzn-Bedrock-Input-Token-Count`
header. Model families other than these two have no embedding here and are refused by name.

See: https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html,
https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html.
"""

from __future__ import annotations

import asyncio

from integration_api.credentials.model import ProviderCredential
from integration_api.embeddings.contract import (
    BatchLimits,
    EmbedBatch,
    EmbedBatchResult,
    InputType,
)
from integration_api.errors import InvalidArgument, Unavailable
from integration_api.llm.contract import Usage
from integration_api.providers.aws.chat import encoded_body, model_path, runtime_base_url
from integration_api.providers.aws.errors import classify_error
from integration_api.providers.aws.verification import PROVIDER, bedrock_headers
from integration_api.providers.endpoints import join_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.sanitize import secret_values
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE, UpstreamTimer
from integration_api.providers.transport import ProviderResponse, send_json

JsonObject = dict[str, object]

# Cohere Embed takes at most 96 texts per call, each up to 2,048 characters.
LIMITS = BatchLimits(max_inputs=96, max_bytes=96 * 2048)
TITAN_DIMENSIONS = (256, 512, 1024)
COHERE_DIMENSIONS = (256, 512, 1024, 1536)
COHERE_INPUT_TYPES = {InputType.QUERY: "search_query", InputType.DOCUMENT: "search_document"}
TOKEN_COUNT_HEADER = "x-amzn-bedrock-input-token-count"
# Titan calls of one batch in flight at once (the pipeline runs a few batches side by side).
_TITAN_CONCURRENCY = 4


def _bad_answer() -> Unavailable:
    return Unavailable(
        f"{PROVIDER} did not answer with one embedding per input",
        reason=PROVIDER_BAD_RESPONSE,
        provider=PROVIDER,
    )


def _vector(value: object) -> list[float]:
    if isinstance(value, list) and all(
        isinstance(item, (int, float)) and not isinstance(item, bool) for item in value
    ):
        return [float(item) for item in value]
    raise _bad_answer()


def _count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


async def _invoke(
    credential: ProviderCredential,
    model: str,
    body: JsonObject,
    http: ProviderClient,
    timer: UpstreamTimer,
) -> ProviderResponse:
    """One signed InvokeModel call, its wait counted as the provider's time."""
    content = encoded_body(body)
    url = join_url(runtime_base_url(credential), model_path(model, "invoke"))
    with timer.waiting():
        return await send_json(
            http,
            "POST",
            url,
            provider=PROVIDER,
            headers=bedrock_headers(credential, "POST", url, content, "application/json"),
            content=content,
            secrets=secret_values(credential.secret),
            classify_error=classify_error,
        )


def titan_body(batch: EmbedBatch, text: str) -> JsonObject:
    body: JsonObject = {"inputText": text}
    if "titan-embed-text-v1" not in batch.model:
        body["normalize"] = True
        if batch.dimensions is not None:
            body["dimensions"] = batch.dimensions
    return body


def _check_titan(batch: EmbedBatch) -> None:
    if batch.input_type is not None:
        raise InvalidArgument.for_field("input_type", "Titan embedding models take no input type")
    if batch.dimensions is None:
        return
    if "titan-embed-text-v1" in batch.model:
        raise InvalidArgument.for_field("dimensions", "Titan Text Embeddings v1 takes none")
    if batch.dimensions not in TITAN_DIMENSIONS:
        raise InvalidArgument.for_field("dimensions", "must be 256, 512 or 1024 for Titan")


def cohere_body(batch: EmbedBatch) -> JsonObject:
    if batch.input_type is None:
        raise InvalidArgument.for_field(
            "input_type", "is required for Cohere Embed: query or document"
        )
    body: JsonObject = {
        "texts": list(batch.inputs),
        "input_type": COHERE_INPUT_TYPES[batch.input_type],
        "embedding_types": ["float"],
    }
    if batch.dimensions is not None:
        if "embed-v4" not in batch.model:
            raise InvalidArgument.for_field("dimensions", "only Cohere Embed v4 takes dimensions")
        if batch.dimensions not in COHERE_DIMENSIONS:
            raise InvalidArgument.for_field("dimensions", "must be 256, 512, 1024 or 1536")
        body["output_dimension"] = batch.dimensions
    return body


def _cohere_vectors(answer: object, expected: int) -> list[list[float]]:
    embeddings = answer.get("embeddings") if isinstance(answer, dict) else None
    if isinstance(embeddings, dict):
        embeddings = embeddings.get("float")
    if not isinstance(embeddings, list) or len(embeddings) != expected:
        raise _bad_answer()
    return [_vector(item) for item in embeddings]


class BedrockEmbeddingModel:
    """The `EmbeddingModel` of Bedrock's Titan and Cohere embedding models."""

    @property
    def provider(self) -> str:
        return PROVIDER

    @property
    def limits(self) -> BatchLimits:
        return LIMITS

    def default_model(self, credential: ProviderCredential) -> str:
        return credential.config.default_model.strip()

    async def embed(
        self,
        credential: ProviderCredential,
        batch: EmbedBatch,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> EmbedBatchResult:
        if "amazon.titan-embed" in batch.model:
            _check_titan(batch)
            return await self._embed_titan(credential, batch, http, timer)
        if "cohere.embed" in batch.model:
            body = cohere_body(batch)
            response = await _invoke(credential, batch.model, body, http, timer)
            vectors = _cohere_vectors(response.body, len(batch.inputs))
            tokens = _count(response.headers.get(TOKEN_COUNT_HEADER))
            return EmbedBatchResult(vectors, Usage(input_tokens=tokens), batch.model)
        raise InvalidArgument.for_field(
            "model", f"{PROVIDER} embeds with Titan or Cohere Embed models only"
        )

    async def _embed_titan(
        self,
        credential: ProviderCredential,
        batch: EmbedBatch,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> EmbedBatchResult:
        """One call per text, a few at a time; the first failure cancels the rest."""
        gate = asyncio.Semaphore(_TITAN_CONCURRENCY)

        async def one(text: str) -> tuple[list[float], int | None]:
            async with gate:
                body = titan_body(batch, text)
                response = await _invoke(credential, batch.model, body, http, timer)
            answer = response.body if isinstance(response.body, dict) else {}
            return _vector(answer.get("embedding")), _count(answer.get("inputTextTokenCount"))

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(text)) for text in batch.inputs]
        except ExceptionGroup as failures:
            # The first failure is the call's; the others are the cancelled calls' echoes.
            raise failures.exceptions[0] from None
        results = [task.result() for task in tasks]
        counts = [count for _vector, count in results]
        # Unreported when any call did not report it: a partial sum would under-count.
        tokens = None if None in counts else sum(count or 0 for count in counts)
        vectors = [vector for vector, _count in results]
        return EmbedBatchResult(vectors, Usage(input_tokens=tokens), batch.model)


BEDROCK = BedrockEmbeddingModel()
