"""Speech sessions pass their credential's gate too: a session is one provider request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialLimits,
    CredentialSecret,
    SynthesizeRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, SpeechServiceStub

from tests.speech.conftest import KEYS, SERVERS, SpeechUpstream
from tests.speech.test_conformance import synthesis_config
from tests.support.service import RunningService, running_service


@pytest.fixture
async def service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(package_database_dsn) as running:
        yield running


async def test_a_synthesis_over_the_credentials_limit_never_reaches_the_provider(
    service: RunningService,
) -> None:
    async with SERVERS["deepgram"]() as server:
        reply = await CredentialServiceStub(service.channel).create_credential(
            CreateCredentialRequest(
                provider="deepgram",
                name="limited speech",
                secret=CredentialSecret(api_key=ApiKeySecret(key=KEYS["deepgram"])),
                config=CredentialConfig(
                    base_url=server.base_url, limits=CredentialLimits(requests_per_minute=1)
                ),
                skip_verification=True,
            ),
            metadata=service.auth(),
        )
        assert reply.credential is not None
        upstream = SpeechUpstream("deepgram", server, reply.credential.id, KEYS["deepgram"])
        speech = SpeechServiceStub(service.channel)
        request = SynthesizeRequest(config=synthesis_config(upstream), text="Hello there.")
        served = [r async for r in speech.synthesize(request, metadata=service.auth())]
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            [r async for r in speech.synthesize(request, metadata=service.auth())]
        sessions = len(server.sessions)
    assert served[-1].done is not None
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "requests-per-minute" in (refused.value.details() or "")
    assert sessions == 1
