"""The embedding and rerank contract: what the service is asked for and what a provider call
returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from integration_api.llm.contract import Usage


class InputType(Enum):
    """What the texts are for; providers that distinguish embed queries and documents apart."""

    QUERY = "query"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class EmbedRequest:
    """One embedding call. `model` empty means the credential's default model."""

    credential_id: str
    model: str
    inputs: tuple[str, ...]
    input_type: InputType | None = None
    dimensions: int | None = None


@dataclass(frozen=True, slots=True)
class EmbedBatch:
    """The part of a request one provider call carries (within the provider's limits)."""

    model: str
    inputs: tuple[str, ...]
    input_type: InputType | None = None
    dimensions: int | None = None


@dataclass(frozen=True, slots=True)
class EmbedBatchResult:
    """One vector per input of the batch, in the batch's order."""

    vectors: list[list[float]]
    usage: Usage
    model: str


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """How much one provider call may carry."""

    max_inputs: int
    # Bounds the request's tokens without a tokenizer: a token is never less than one byte.
    max_bytes: int


@dataclass(frozen=True, slots=True)
class EmbedResult:
    vectors: list[list[float]]
    usage: Usage
    model: str


@dataclass(frozen=True, slots=True)
class RerankRequest:
    """One rerank call. `model` empty means the credential's default; `top_n` None means all."""

    credential_id: str
    model: str
    query: str
    documents: tuple[str, ...]
    top_n: int | None = None


@dataclass(frozen=True, slots=True)
class RerankQuery:
    """What one provider call carries: the query, every document, and how many results to keep.

    `top_n` is never more than the number of documents (None: every document).
    """

    model: str
    query: str
    documents: tuple[str, ...]
    top_n: int | None = None


@dataclass(frozen=True, slots=True)
class RankedDocument:
    """One result: the position of its document in the request and its relevance score."""

    index: int
    relevance_score: float


@dataclass(frozen=True, slots=True)
class RerankAnswer:
    """A provider's ranking, best first.

    `usage.input_tokens` holds the tokens a provider counted, `search_units` what a provider
    billing by search unit billed (Cohere); either is None when not reported.
    """

    results: list[RankedDocument]
    usage: Usage
    model: str
    search_units: int | None = None
