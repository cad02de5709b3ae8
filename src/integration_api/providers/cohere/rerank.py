"""Rerank through Cohere's v2 API: `POST {base}/v2/rerank`.

Sent: `model`, `query`, `documents` (plain strings) and `top_n` when the request limits the
results. Read: `results[].index` and `relevance_score`, and `meta.billed_units.search_units`
(Cohere bills reranking by search unit; it reports no tokens).

See: https://docs.cohere.com/reference/rerank.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.embeddings.contract import RerankAnswer, RerankQuery
from integration_api.llm.contract import Usage
from integration_api.providers.cohere.verification import PROVIDER, cohere_headers
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.json_calls import count_at, post_json, ranked_documents
from integration_api.providers.sanitize import secret_values
from integration_api.upstream.timer import UpstreamTimer


def rerank_body(query: RerankQuery) -> dict[str, object]:
    body: dict[str, object] = {
        "model": query.model,
        "query": query.query,
        "documents": list(query.documents),
    }
    if query.top_n is not None:
        body["top_n"] = query.top_n
    return body


class CohereRerankModel:
    """The `RerankModel` of Cohere's v2 API."""

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
        url = join_url(resolve_base_url(PROVIDER, credential.config), "v2/rerank")
        response = await post_json(
            http,
            url,
            provider=PROVIDER,
            headers=cohere_headers(credential),
            body=rerank_body(query),
            secrets=secret_values(credential.secret),
            timer=timer,
        )
        results = ranked_documents(response.body, "results", PROVIDER)
        search_units = count_at(response.body, "meta", "billed_units", "search_units")
        return RerankAnswer(results, Usage(), query.model, search_units)


COHERE = CohereRerankModel()
