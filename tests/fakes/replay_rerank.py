"""Rerank answers computed from the request, in each provider's own response format.

A document's score is the number of query words it contains, plus a small fraction of its
checksum that keeps scores apart, so a test can compute the expected order itself.
"""

from __future__ import annotations

import zlib
from typing import Any

from aiohttp import web

from tests.fakes.server import json_response


def relevance(query: str, document: str) -> float:
    words = {word.strip(".,?!") for word in query.lower().split()}
    shared = sum(1 for word in document.lower().split() if word.strip(".,?!") in words)
    return shared + (zlib.crc32(document.encode()) % 1000) / 10_000


def ranking(query: str, documents: list[str], limit: int | None) -> list[tuple[int, float]]:
    """`(index, score)` best first, at most `limit` of them, as the providers answer."""
    scored = [(index, relevance(query, document)) for index, document in enumerate(documents)]
    scored.sort(key=lambda item: item[1], reverse=True)
    return scored[:limit] if limit is not None else scored


def tokens_of(query: str, documents: list[str]) -> int:
    return sum(len(text.split()) for text in [query, *documents])


def _bedrock_rerank(body: Any) -> web.Response:
    """Bedrock's agent runtime: text query and inline text sources in, `relevanceScore` out."""
    query = body["queries"][0]["textQuery"]["text"]
    documents = [
        source["inlineDocumentSource"]["textDocument"]["text"] for source in body["sources"]
    ]
    limit = body["rerankingConfiguration"]["bedrockRerankingConfiguration"]["numberOfResults"]
    results = [
        {"index": index, "relevanceScore": score}
        for index, score in ranking(query, documents, limit)
    ]
    return json_response(200, {"results": results})


def rerank_answer(provider: str, body: Any) -> web.Response:
    if provider == "bedrock":
        return _bedrock_rerank(body)
    query, documents = body["query"], body["documents"]
    if provider == "cohere":
        results = [
            {"index": index, "relevance_score": score}
            for index, score in ranking(query, documents, body.get("top_n"))
        ]
        return json_response(
            200,
            {
                "id": "07734bd2-2473-4f07-94e1-0d9f0e6843cf",
                "results": results,
                "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}},
            },
        )
    data = [
        {"index": index, "relevance_score": score}
        for index, score in ranking(query, documents, body.get("top_k"))
    ]
    return json_response(
        200,
        {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"total_tokens": tokens_of(query, documents)},
        },
    )
