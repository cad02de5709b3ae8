"""Embeddings through Cohere's v2 API: `POST {base}/v2/embed`.

Cohere requires `input_type`, and a vector made for the wrong use ranks worse, so a request
without one is refused (INVALID_ARGUMENT on `input_type`) rather than guessed: `QUERY` is sent
as `search_query`, `DOCUMENT` as `search_document`. Vectors are asked for as
`embedding_types: ["float"]` and read from `embeddings.float`; `dimensions` is sent as
`output_dimension` (embed-v4: 256, 512, 1024 or 1536). At most 96 texts go in one call; tokens
come from `meta.billed_units.input_tokens`.

See: https://docs.cohere.com/reference/embed.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.embeddings.contract import (
    BatchLimits,
    EmbedBatch,
    EmbedBatchResult,
    InputType,
)
from integration_api.errors import InvalidArgument
from integration_api.llm.contract import Usage
from integration_api.providers.cohere.verification import PROVIDER, cohere_headers
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.json_calls import bad_answer, count_at, post_json
from integration_api.providers.openai.embeddings import decode_vector
from integration_api.providers.sanitize import secret_values
from integration_api.upstream.timer import UpstreamTimer

INPUT_TYPES = {InputType.QUERY: "search_query", InputType.DOCUMENT: "search_document"}


def embed_body(batch: EmbedBatch) -> dict[str, object]:
    if batch.input_type is None:
        raise InvalidArgument.for_field(
            "input_type", "is required for cohere embeddings: QUERY or DOCUMENT"
        )
    body: dict[str, object] = {
        "model": batch.model,
        "texts": list(batch.inputs),
        "input_type": INPUT_TYPES[batch.input_type],
        "embedding_types": ["float"],
    }
    if batch.dimensions is not None:
        body["output_dimension"] = batch.dimensions
    return body


def read_embeddings(body: object, batch: EmbedBatch) -> EmbedBatchResult:
    by_type = body.get("embeddings") if isinstance(body, dict) else None
    vectors = by_type.get("float") if isinstance(by_type, dict) else None
    if not isinstance(vectors, list) or len(vectors) != len(batch.inputs):
        raise bad_answer(PROVIDER, "did not answer with one embedding per input")
    usage = Usage(input_tokens=count_at(body, "meta", "billed_units", "input_tokens"))
    return EmbedBatchResult([decode_vector(item, PROVIDER) for item in vectors], usage, batch.model)


class CohereEmbeddingModel:
    """The `EmbeddingModel` of Cohere's v2 API."""

    limits = BatchLimits(max_inputs=96, max_bytes=300_000)

    @property
    def provider(self) -> str:
        return PROVIDER

    def default_model(self, credential: ProviderCredential) -> str:
        return credential.config.default_model.strip()

    async def embed(
        self,
        credential: ProviderCredential,
        batch: EmbedBatch,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> EmbedBatchResult:
        body = embed_body(batch)
        url = join_url(resolve_base_url(PROVIDER, credential.config), "v2/embed")
        response = await post_json(
            http,
            url,
            provider=PROVIDER,
            headers=cohere_headers(credential),
            body=body,
            secrets=secret_values(credential.secret),
            timer=timer,
        )
        return read_embeddings(response.body, batch)


COHERE = CohereEmbeddingModel()
