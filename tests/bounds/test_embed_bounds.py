"""An Embed request that could not succeed is refused before it costs a provider call.

The service under test allows 100 inputs and 10,000 characters per request, and messages of
1 MiB (tests/bounds/conftest.py).
"""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import EmbedRequest
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from tests.bounds.conftest import LIMITS, MAX_MESSAGE_BYTES, Upstreams, organization
from tests.credentials.helpers import field_violations
from tests.fakes import hostile
from tests.support.service import RunningService


async def embed_error(
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstreams: Upstreams,
    upstream: str,
    request: EmbedRequest,
) -> grpc.aio.AioRpcError | None:
    tenant = organization()
    request.credential_id = await upstreams.credential(upstream, tenant)
    try:
        await embeddings.embed(request, metadata=service.auth(organization_id=tenant), timeout=10)
    except grpc.aio.AioRpcError as error:
        return error
    return None


@pytest.mark.parametrize(
    ("model", "inputs", "dimensions"),
    [
        ("m", ["text"] * (LIMITS.max_embed_inputs + 1), None),
        ("m", ["x" * 6000, "y" * 6000], None),
        # 70 vectors of 4096 float32 values: about 1.15 MB, over the 1 MiB message limit.
        ("m", ["text"] * 70, 4096),
        # text-embedding-3-large answers 3072 values: 100 of them are about 1.2 MB.
        ("text-embedding-3-large", ["text"] * 100, None),
    ],
    ids=["too many inputs", "too many characters", "dimensions asked", "known model"],
)
async def test_an_embed_request_past_its_bounds_is_refused_naming_inputs_before_any_call(
    model: str,
    inputs: list[str],
    dimensions: int | None,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstreams: Upstreams,
) -> None:
    request = EmbedRequest(model=model, inputs=inputs, dimensions=dimensions)
    error = await embed_error(embeddings, service, upstreams, "replay", request)
    assert error is not None
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "inputs" in field_violations(error)
    assert upstreams.replay.requests == []


async def test_a_model_of_unknown_size_is_refused_after_its_first_answer_shows_it_cannot_fit(
    embeddings: EmbeddingServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    # 100 vectors of 3000 values: about 1.2 MB once encoded, over the 1 MiB message limit.
    upstreams.hostile.answer_with(hostile.embeddings(100, 3000))
    request = EmbedRequest(model="m", inputs=["text"] * 100)
    error = await embed_error(embeddings, service, upstreams, "hostile", request)
    assert error is not None
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert str(MAX_MESSAGE_BYTES) in (error.details() or "")
    assert len(upstreams.hostile.fake.requests) == 1


async def test_an_embed_request_within_its_bounds_is_served(
    embeddings: EmbeddingServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    request = EmbedRequest(model="m", inputs=["text"] * LIMITS.max_embed_inputs, dimensions=8)
    assert await embed_error(embeddings, service, upstreams, "replay", request) is None
    assert len(upstreams.replay.requests) == 1
