"""One JSON request to a provider with the wait counted as the provider's time, and the small
readers of JSON answers that the embedding and rerank adapters share."""

from __future__ import annotations

from collections.abc import Mapping

from integration_api.embeddings.contract import RankedDocument
from integration_api.errors import Unavailable
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE, UpstreamTimer
from integration_api.providers.transport import ProviderResponse, send_json
from integration_api.providers.wire_values import token_count


async def post_json(
    http: ProviderClient,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str],
    body: object,
    secrets: tuple[str, ...],
    timer: UpstreamTimer,
) -> ProviderResponse:
    """POST `body` and return the JSON answer; the time waited is added to `timer`."""
    with timer.waiting():
        return await send_json(
            http,
            "POST",
            url,
            provider=provider,
            headers=headers,
            json_body=body,
            secrets=secrets,
        )


def bad_answer(provider: str, what: str) -> Unavailable:
    """`provider` answered 2xx with something that is not what it documents."""
    return Unavailable(f"{provider} {what}", reason=PROVIDER_BAD_RESPONSE, provider=provider)


def count_at(body: object, *path: str) -> int | None:
    """The non-negative whole number at `path` in a JSON object, or None when not reported."""
    value = body
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return token_count(value)


def ranked_documents(
    body: object, list_field: str, provider: str, *, score_field: str = "relevance_score"
) -> list[RankedDocument]:
    """Index and score of every item of a rerank answer's `list_field`."""
    items = body.get(list_field) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise bad_answer(provider, "did not answer with a list of ranked documents")
    ranked: list[RankedDocument] = []
    for item in items:
        index = item.get("index") if isinstance(item, dict) else None
        score = item.get(score_field) if isinstance(item, dict) else None
        if (
            not isinstance(index, int)
            or isinstance(index, bool)
            or not isinstance(score, (int, float))
            or isinstance(score, bool)
        ):
            raise bad_answer(provider, "answered with a result without an index and a score")
        ranked.append(RankedDocument(index, float(score)))
    return ranked
