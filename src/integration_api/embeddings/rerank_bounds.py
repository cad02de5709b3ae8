"""What a Rerank request may ask for, and what a provider's ranking must look like.

Documents are capped in number and size before any provider is called: the providers that
rerank (Cohere, Voyage AI, Bedrock) take at most 1,000 documents per call and bill by what they
read, so a request past the caps is refused up front rather than split into calls the caller
did not expect to pay for. A provider's answer is checked before it reaches the caller: every
result names a document of the request, none twice, and results are put best first.
"""

from __future__ import annotations

from integration_api.embeddings.contract import RankedDocument, RerankAnswer, RerankRequest
from integration_api.errors import InvalidArgument, Unavailable
from integration_api.upstream.stream_errors import PROVIDER_BAD_RESPONSE

DOCUMENTS_FIELD = "documents"
# The most documents Cohere, Voyage AI and Bedrock each take in one call.
MAX_RERANK_DOCUMENTS = 1000
# All documents of one request together, as for Embed's texts.
MAX_RERANK_DOCUMENT_CHARACTERS = 1_000_000
# Well above every provider's query limit (Voyage: 8,000 tokens), well below a memory concern.
MAX_RERANK_QUERY_CHARACTERS = 100_000


def check_rerank_request(request: RerankRequest) -> None:
    """Refuse too many documents, or too many characters (INVALID_ARGUMENT naming the field)."""
    count = len(request.documents)
    if count > MAX_RERANK_DOCUMENTS:
        raise InvalidArgument.for_field(
            DOCUMENTS_FIELD,
            f"has {count} documents; at most {MAX_RERANK_DOCUMENTS} are allowed",
        )
    characters = sum(len(document) for document in request.documents)
    if characters > MAX_RERANK_DOCUMENT_CHARACTERS:
        raise InvalidArgument.for_field(
            DOCUMENTS_FIELD,
            f"has {characters} characters in all; at most {MAX_RERANK_DOCUMENT_CHARACTERS} "
            "are allowed",
        )
    if len(request.query) > MAX_RERANK_QUERY_CHARACTERS:
        raise InvalidArgument.for_field(
            "query", f"has more than {MAX_RERANK_QUERY_CHARACTERS} characters"
        )


def ranked_best_first(
    answer: RerankAnswer, documents: int, top_n: int | None, provider: str
) -> RerankAnswer:
    """The answer with its results checked, best first and cut to `top_n`.

    Raises:
        Unavailable: a result names a document the request does not have, or one twice.
    """
    seen: set[int] = set()
    for result in answer.results:
        if not 0 <= result.index < documents or result.index in seen:
            raise Unavailable(
                f"{provider} answered with document indexes that do not match the request",
                reason=PROVIDER_BAD_RESPONSE,
                provider=provider,
            )
        seen.add(result.index)
    # Stable: results of equal score keep the provider's order.
    ordered = sorted(answer.results, key=_score, reverse=True)
    if top_n is not None:
        ordered = ordered[:top_n]
    return RerankAnswer(ordered, answer.usage, answer.model, answer.search_units)


def _score(result: RankedDocument) -> float:
    return result.relevance_score
