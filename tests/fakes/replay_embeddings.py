"""Embedding answers computed from the request, in each provider's own response format.

Every vector is a pure function of its text (and the requested dimensions), so a test can
check that each input got its own vector back in its own position. OpenAI-style answers list
the vectors in reverse order with their `index`, as the format allows, to prove that callers
reassemble by index rather than by position.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

from aiohttp import web

from tests.fakes.server import json_response

DEFAULT_DIMENSIONS = 8


def vector_for(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """The vector the fake gives `text`: exactly representable as float32."""
    seed = zlib.crc32(text.encode())
    return [((seed >> (position % 24)) % 1024) / 256 - 2.0 for position in range(dimensions)]


def float32_base64(values: list[float]) -> str:
    """Vectors as OpenAI sends them with `encoding_format: base64`: little-endian float32."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")


def _inputs(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise ValueError("inputs must be a string or a list of strings")


def embedding_answer(provider: str, body: Any) -> web.Response:
    if provider == "huggingface":
        return _feature_extraction(body)
    if provider == "gemini":
        return _batch_embed_contents(body)
    if provider == "vertex-ai":
        return _vertex_predict(body)
    if provider == "cohere":
        return _cohere_embed(body)
    return _openai_embeddings(provider, body)


def _openai_embeddings(provider: str, body: Any) -> web.Response:
    texts = _inputs(body["input"])
    dimension_field = "output_dimension" if provider in ("mistral", "voyageai") else "dimensions"
    dimensions = int(body.get(dimension_field) or DEFAULT_DIMENSIONS)
    as_base64 = body.get("encoding_format") == "base64"
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": float32_base64(vector_for(text, dimensions))
            if as_base64
            else vector_for(text, dimensions),
        }
        for index, text in enumerate(texts)
    ]
    tokens = sum(len(text.split()) for text in texts)
    answer: dict[str, object] = {
        "object": "list",
        "data": list(reversed(data)),
        "model": body.get("model", ""),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    if provider == "voyageai":
        answer["usage"] = {"total_tokens": tokens}
    if provider == "mistral":
        answer["id"] = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    return json_response(200, answer)


def _feature_extraction(body: Any) -> web.Response:
    texts = _inputs(body["inputs"])
    dimensions = int(body.get("dimensions") or DEFAULT_DIMENSIONS)
    return json_response(200, [vector_for(text, dimensions) for text in texts])


def _batch_embed_contents(body: Any) -> web.Response:
    """Gemini: one embedding per request item; an item's parts would be embedded as one text."""
    embeddings = []
    for item in body["requests"]:
        text = "".join(part["text"] for part in item["content"]["parts"])
        dimensions = int(item.get("outputDimensionality") or DEFAULT_DIMENSIONS)
        embeddings.append({"values": vector_for(text, dimensions)})
    return json_response(200, {"embeddings": embeddings})


def _vertex_predict(body: Any) -> web.Response:
    """Vertex `predict`: one prediction per instance, with the tokens it counted."""
    parameters = body.get("parameters") or {}
    dimensions = int(parameters.get("outputDimensionality") or DEFAULT_DIMENSIONS)
    predictions = [
        {
            "embeddings": {
                "statistics": {"token_count": len(instance["content"].split()), "truncated": False},
                "values": vector_for(instance["content"], dimensions),
            }
        }
        for instance in body["instances"]
    ]
    characters = sum(len(instance["content"]) for instance in body["instances"])
    return json_response(
        200, {"predictions": predictions, "metadata": {"billableCharacterCount": characters}}
    )


def _cohere_embed(body: Any) -> web.Response:
    """Cohere v2: vectors by embedding type, tokens under `meta.billed_units`."""
    texts = _inputs(body["texts"])
    dimensions = int(body.get("output_dimension") or DEFAULT_DIMENSIONS)
    tokens = sum(len(text.split()) for text in texts)
    return json_response(
        200,
        {
            "id": "da6e531f-7b3a-4f5e-9c1d-2e8a4b6c0d1f",
            "texts": texts,
            "embeddings": {"float": [vector_for(text, dimensions) for text in texts]},
            "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": tokens}},
            "response_type": "embeddings_by_type",
        },
    )
