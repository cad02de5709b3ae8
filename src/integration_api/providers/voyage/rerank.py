"""Rerank through Voyage AI: `POST {base}/rerank` (the base ends in `/v1`).

Sent: `model`, `query`, `documents` and `top_k` when the request limits the results; Voyage
truncates documents past the model's context (`truncation` defaults to true) and does not echo
them (`return_documents` false). Read: `data[].index` and `relevance_score`, the answering
`model` and `usage.total_tokens`.

See: https://docs.voyageai.com/reference/reranker-api.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.embeddings.contract import RerankAnswer, RerankQuery
from integration_api.llm.contract import Usage
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.json_calls import count_at, post_json, ranked_documents
from integration_api.providers.sanitize import secret_values
from integration_api.providers.voyage.verification import PROVIDER, voyage_headers
from integration_api.upstream.timer import UpstreamTimer


def rerank_body(query: RerankQuery) -> dict[str, object]:
    body: dict[str, object] = {
        "model": query.model,
        "query": query.query,
        "documents": list(query.documents),
        "return_documents": False,
    }
    if query.top_n is not None:
        body["top_k"] = query.top_n
    return body


class VoyageRerankModel:
    """The `RerankModel` of Voyage AI."""

    @property
    def provider(self) -> str:
        return PROVIDER

    def default_model(self, credential: ProviderCredential) -> str:
        return credential.config.default_model.strip()

    async def rerank(
        self,
        credential: ProviderCredential,
        query: RerankQuery,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> RerankAnswer:
        url = join_url(resolve_base_url(PROVIDER, credential.config), "rerank")
        response = await post_json(
            http,
            url,
            provider=PROVIDER,
            headers=voyage_headers(credential),
            body=rerank_body(query),
            secrets=secret_values(credential.secret),
            timer=timer,
        )
        results = ranked_documents(response.body, "data", PROVIDER)
        model = response.body.get("model") if isinstance(response.body, dict) else None
        usage = Usage(input_tokens=count_at(response.body, "usage", "total_tokens"))
        return RerankAnswer(
            results, usage, model if isinstance(model, str) and model else query.model
        )


VOYAGE = VoyageRerankModel()
