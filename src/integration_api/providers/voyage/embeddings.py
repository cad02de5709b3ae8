"""Embeddings through Voyage AI: `POST {base}/embeddings` (the base ends in `/v1`).

Sent: `model`, `input`, `input_type` (`query` or `document`; left out when the request names
none, so Voyage adds no prompt), `output_dimension` for `dimensions`, and
`encoding_format: "base64"`: vectors come back as little-endian float32, far cheaper to decode
than JSON numbers. Read: `data[]` put in order by `index`, the answering `model`, and
`usage.total_tokens`.

A call carries at most 1,000 texts and 120,000 bytes: the smallest token limit of Voyage's
models (voyage-3-large, voyage-code-3) is 120K tokens, and a token is never less than a byte.

See: https://docs.voyageai.com/reference/embeddings-api.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.embeddings.contract import (
    BatchLimits,
    EmbedBatch,
    EmbedBatchResult,
    InputType,
)
from integration_api.llm.contract import Usage
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.json_calls import count_at, post_json
from integration_api.providers.openai.embeddings import read_openai_embeddings
from integration_api.providers.sanitize import secret_values
from integration_api.providers.voyage.verification import PROVIDER, voyage_headers
from integration_api.upstream.timer import UpstreamTimer

INPUT_TYPES = {InputType.QUERY: "query", InputType.DOCUMENT: "document"}


def embed_body(batch: EmbedBatch) -> dict[str, object]:
    body: dict[str, object] = {
        "model": batch.model,
        "input": list(batch.inputs),
        "encoding_format": "base64",
    }
    if batch.input_type is not None:
        body["input_type"] = INPUT_TYPES[batch.input_type]
    if batch.dimensions is not None:
        body["output_dimension"] = batch.dimensions
    return body


class VoyageEmbeddingModel:
    """The `EmbeddingModel` of Voyage AI."""

    limits = BatchLimits(max_inputs=1000, max_bytes=120_000)

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
        url = join_url(resolve_base_url(PROVIDER, credential.config), "embeddings")
        response = await post_json(
            http,
            url,
            provider=PROVIDER,
            headers=voyage_headers(credential),
            body=embed_body(batch),
            secrets=secret_values(credential.secret),
            timer=timer,
        )
        # Voyage's answer has OpenAI's shape, but counts its tokens as `total_tokens`.
        result = read_openai_embeddings(response.body, batch, PROVIDER)
        usage = Usage(input_tokens=count_at(response.body, "usage", "total_tokens"))
        return EmbedBatchResult(result.vectors, usage, result.model)


VOYAGE = VoyageEmbeddingModel()
