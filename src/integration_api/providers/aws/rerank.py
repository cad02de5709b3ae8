"""Rerank through Bedrock's agent runtime: `POST /rerank` on `bedrock-agent-runtime.{region}`,
signed like the other Bedrock calls (signing name `bedrock`).

Sent: the query as one `TEXT` query, each document as an `INLINE` `TEXT` source, and a
`BEDROCK_RERANKING_MODEL` configuration naming the model by ARN (a bare model id such as
`amazon.rerank-v1:0` or `cohere.rerank-v3-5:0` becomes its foundation-model ARN in the
credential's region) and asking for `top_n` results, or for every document when the request
sets none (Bedrock's own default is smaller). Read: `results[].index` and `relevanceScore`.
Bedrock reports no token count for reranking.

See: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_agent-runtime_Rerank.html.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.embeddings.contract import RerankAnswer, RerankQuery
from integration_api.llm.contract import Usage
from integration_api.providers.aws.chat import encoded_body, runtime_base_url
from integration_api.providers.aws.errors import classify_error
from integration_api.providers.aws.verification import PROVIDER, bedrock_headers
from integration_api.providers.endpoints import join_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.json_calls import ranked_documents
from integration_api.providers.sanitize import secret_values
from integration_api.providers.transport import send_json
from integration_api.upstream.timer import UpstreamTimer

AGENT_RUNTIME_HOST = "bedrock-agent-runtime"


def model_arn(model: str, region: str) -> str:
    """The ARN Bedrock's reranker names a model by; an ARN given is used as it is."""
    if model.startswith("arn:"):
        return model
    return f"arn:aws:bedrock:{region}::foundation-model/{model}"


def rerank_body(query: RerankQuery, region: str) -> dict[str, object]:
    sources = [
        {
            "type": "INLINE",
            "inlineDocumentSource": {"type": "TEXT", "textDocument": {"text": document}},
        }
        for document in query.documents
    ]
    configuration = {
        "numberOfResults": query.top_n if query.top_n is not None else len(query.documents),
        "modelConfiguration": {"modelArn": model_arn(query.model, region)},
    }
    return {
        "queries": [{"type": "TEXT", "textQuery": {"text": query.query}}],
        "sources": sources,
        "rerankingConfiguration": {
            "type": "BEDROCK_RERANKING_MODEL",
            "bedrockRerankingConfiguration": configuration,
        },
    }


class BedrockRerankModel:
    """The `RerankModel` of Bedrock's agent runtime."""

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
        base_url = runtime_base_url(credential, AGENT_RUNTIME_HOST)
        url = join_url(base_url, "rerank")
        content = encoded_body(rerank_body(query, credential.config.region))
        with timer.waiting():
            response = await send_json(
                http,
                "POST",
                url,
                provider=PROVIDER,
                headers=bedrock_headers(credential, "POST", url, content, "application/json"),
                content=content,
                secrets=secret_values(credential.secret),
                classify_error=classify_error,
            )
        results = ranked_documents(response.body, "results", PROVIDER, score_field="relevanceScore")
        return RerankAnswer(results, Usage(), query.model, None)


BEDROCK = BedrockRerankModel()
