"""Embeddings through the Gemini API (`batchEmbedContents`) and Vertex AI (`predict`).

| provider  | method               | one input is                                  | per call    |
| --------- | -------------------- | --------------------------------------------- | ----------- |
| gemini    | `batchEmbedContents` | one request with one `content` of one part    | 100, 400 kB |
| vertex-ai | `predict`            | one instance `{"content": …}`                 | 250, 20 kB  |
|           |                      | (`gemini-embedding-*`: one instance per call) |             |

Each text is its own `content`: several parts in one `content` would be embedded together
as one text and give one vector. `input_type` becomes the task type (`RETRIEVAL_QUERY`,
`RETRIEVAL_DOCUMENT`), `dimensions` becomes `outputDimensionality`. Vectors come back in
request order. Vertex reports each input's token count; the Gemini API reports none.

Limits: the Gemini API takes at most 100 requests per batch; Vertex's text-embedding models at
most 250 texts and 20,000 tokens per call (a token is never shorter than one byte, so a byte
budget bounds them); Vertex's `gemini-embedding-*` models take one instance per call, so those
are sent one by one, a few at a time.

See: https://ai.google.dev/api/embeddings#method:-models.batchembedcontents,
https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from integration_api.credentials.model import ProviderCredential
from integration_api.embeddings.contract import (
    BatchLimits,
    EmbedBatch,
    EmbedBatchResult,
    InputType,
)
from integration_api.errors import FailedPrecondition, ServiceError, Unavailable
from integration_api.llm.contract import Usage
from integration_api.providers.google import access
from integration_api.providers.google.access import GoogleAccess, model_segment
from integration_api.providers.google.gemini import classify_google_error
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import CREDENTIAL_REJECTED
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE, UpstreamTimer
from integration_api.providers.transport import send_json

JsonObject = dict[str, object]
TASK_TYPES = {InputType.QUERY: "RETRIEVAL_QUERY", InputType.DOCUMENT: "RETRIEVAL_DOCUMENT"}
GEMINI_LIMITS = BatchLimits(max_inputs=100, max_bytes=400_000)
VERTEX_LIMITS = BatchLimits(max_inputs=250, max_bytes=20_000)
# Vertex's `gemini-embedding-*` models: how many single-instance calls run at once.
_SINGLE_INSTANCE_CONCURRENCY = 4


def _bad_answer(provider: str) -> Unavailable:
    return Unavailable(
        f"{provider} did not answer with one embedding per input",
        reason=PROVIDER_BAD_RESPONSE,
        provider=provider,
    )


def _vector(value: object, provider: str) -> list[float]:
    if isinstance(value, list) and all(
        isinstance(item, (int, float)) and not isinstance(item, bool) for item in value
    ):
        return [float(item) for item in value]
    raise _bad_answer(provider)


async def _post(
    model: GoogleAccess,
    credential: ProviderCredential,
    url: str,
    body: JsonObject,
    http: ProviderClient,
    timer: UpstreamTimer,
) -> object:
    """POST one call, counting the wait (token exchange included) as the provider's time."""
    with timer.waiting():
        try:
            authorized = await model.authorize(credential, http)
            response = await send_json(
                http,
                "POST",
                url,
                provider=model.provider,
                headers=authorized.headers,
                json_body=body,
                secrets=authorized.secrets,
                classify_error=classify_google_error,
            )
            return response.body
        except FailedPrecondition as error:
            if error.reason == CREDENTIAL_REJECTED:
                model.token_refused(credential)
            raise


@dataclass(frozen=True)
class GeminiEmbeddingModel:
    """The Gemini API's `batchEmbedContents`: one request item per input."""

    access: GoogleAccess
    limits: BatchLimits = GEMINI_LIMITS

    @property
    def provider(self) -> str:
        return self.access.provider

    def default_model(self, credential: ProviderCredential) -> str:
        return credential.config.default_model.strip()

    def body(self, batch: EmbedBatch) -> JsonObject:
        model = f"models/{model_segment(batch.model)}"
        options: JsonObject = {}
        if batch.input_type is not None:
            options["taskType"] = TASK_TYPES[batch.input_type]
        if batch.dimensions is not None:
            options["outputDimensionality"] = batch.dimensions
        requests = [
            {"model": model, "content": {"parts": [{"text": text}]}, **options}
            for text in batch.inputs
        ]
        return {"requests": requests}

    async def embed(
        self,
        credential: ProviderCredential,
        batch: EmbedBatch,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> EmbedBatchResult:
        url = self.access.model_url(credential, batch.model, "batchEmbedContents")
        answer = await _post(self.access, credential, url, self.body(batch), http, timer)
        embeddings = answer.get("embeddings") if isinstance(answer, dict) else None
        if not isinstance(embeddings, list) or len(embeddings) != len(batch.inputs):
            raise _bad_answer(self.provider)
        vectors = [
            _vector(item.get("values") if isinstance(item, dict) else None, self.provider)
            for item in embeddings
        ]
        return EmbedBatchResult(vectors, Usage(), batch.model)


@dataclass(frozen=True)
class VertexEmbeddingModel:
    """Vertex AI's `predict` for `text-embedding-*` and `gemini-embedding-*` models."""

    access: GoogleAccess
    limits: BatchLimits = VERTEX_LIMITS

    @property
    def provider(self) -> str:
        return self.access.provider

    def default_model(self, credential: ProviderCredential) -> str:
        return credential.config.default_model.strip()

    def body(self, batch: EmbedBatch) -> JsonObject:
        instances: list[JsonObject] = []
        for text in batch.inputs:
            instance: JsonObject = {"content": text}
            if batch.input_type is not None:
                instance["task_type"] = TASK_TYPES[batch.input_type]
            instances.append(instance)
        body: JsonObject = {"instances": instances}
        if batch.dimensions is not None:
            body["parameters"] = {"outputDimensionality": batch.dimensions}
        return body

    async def embed(
        self,
        credential: ProviderCredential,
        batch: EmbedBatch,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> EmbedBatchResult:
        url = self.access.model_url(credential, batch.model, "predict")
        if not model_segment(batch.model).startswith("gemini-embedding"):
            return await self._predict(credential, url, batch, http, timer)
        gate = asyncio.Semaphore(_SINGLE_INSTANCE_CONCURRENCY)

        async def one(text: str) -> EmbedBatchResult:
            async with gate:
                single = EmbedBatch(batch.model, (text,), batch.input_type, batch.dimensions)
                return await self._predict(credential, url, single, http, timer)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(text)) for text in batch.inputs]
        except BaseExceptionGroup as failures:
            raise _first_failure(failures) from None
        results = [task.result() for task in tasks]
        counts = [result.usage.input_tokens for result in results]
        usage = Usage(sum(count or 0 for count in counts)) if None not in counts else Usage()
        vectors = [vector for result in results for vector in result.vectors]
        return EmbedBatchResult(vectors, usage, batch.model)

    async def _predict(
        self,
        credential: ProviderCredential,
        url: str,
        batch: EmbedBatch,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> EmbedBatchResult:
        answer = await _post(self.access, credential, url, self.body(batch), http, timer)
        predictions = answer.get("predictions") if isinstance(answer, dict) else None
        if not isinstance(predictions, list) or len(predictions) != len(batch.inputs):
            raise _bad_answer(self.provider)
        vectors: list[list[float]] = []
        counts: list[int | None] = []
        for prediction in predictions:
            embeddings = prediction.get("embeddings") if isinstance(prediction, dict) else None
            if not isinstance(embeddings, Mapping):
                raise _bad_answer(self.provider)
            vectors.append(_vector(embeddings.get("values"), self.provider))
            counts.append(_token_count(embeddings.get("statistics")))
        usage = Usage(sum(count or 0 for count in counts)) if None not in counts else Usage()
        return EmbedBatchResult(vectors, usage, batch.model)


def _first_failure(failures: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error of a failed group of calls to report: a typed one when there is one."""
    leaves: list[BaseException] = []
    pending: list[BaseException] = [failures]
    while pending:
        item = pending.pop(0)
        if isinstance(item, BaseExceptionGroup):
            pending.extend(item.exceptions)
        else:
            leaves.append(item)
    typed = [item for item in leaves if isinstance(item, ServiceError)]
    return (typed or leaves)[0]


def _token_count(statistics: object) -> int | None:
    count = statistics.get("token_count") if isinstance(statistics, Mapping) else None
    if isinstance(count, (int, float)) and not isinstance(count, bool) and count >= 0:
        return int(count)
    return None


GEMINI = GeminiEmbeddingModel(access.GEMINI)
VERTEX_AI = VertexEmbeddingModel(access.VERTEX)
