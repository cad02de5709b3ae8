"""Values that travel in a provider's URL are capped before any session opens upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from integration_api_proto.integration.v1 import TranscribeRequest
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from integration_api.request_caps import MAX_KEYTERM_CHARACTERS, MAX_KEYTERMS_TOTAL_CHARACTERS
from tests.credentials.helpers import field_violations
from tests.speech.conftest import SpeechUpstream, exchange_ending_early
from tests.speech.test_conformance import transcribe_config
from tests.support.service import RunningService


async def _transcribe(
    speech: SpeechServiceStub, service: RunningService, config: TranscribeRequest
) -> grpc.aio.AioRpcError:
    async def requests() -> AsyncIterator[TranscribeRequest]:
        # The configuration alone: it is refused before any audio would be read.
        yield config

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange_ending_early(lambda: speech.transcribe(metadata=service.auth()), requests)
    return raised.value


@pytest.mark.parametrize("provider", ["deepgram", "assemblyai", "cartesia"])
async def test_thirty_keyterms_of_100k_characters_are_refused_before_the_provider(
    provider: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    config = transcribe_config(upstream)
    assert config.config is not None
    config.config.keyterms = ["k" * 100_000] * 30
    error = await _transcribe(speech, service, config)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(error) == {
        "config.keyterms[0]": f"must be at most {MAX_KEYTERM_CHARACTERS} characters"
    }
    assert upstream.server.sessions == []


async def test_keyterms_past_the_total_are_refused_naming_the_list(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["deepgram"]
    config = transcribe_config(upstream)
    assert config.config is not None
    count = MAX_KEYTERMS_TOTAL_CHARACTERS // MAX_KEYTERM_CHARACTERS + 1
    config.config.keyterms = ["k" * MAX_KEYTERM_CHARACTERS] * count
    error = await _transcribe(speech, service, config)
    assert list(field_violations(error)) == ["config.keyterms"]
    assert upstream.server.sessions == []


async def test_a_model_name_longer_than_any_provider_uses_is_refused(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["deepgram"]
    config = transcribe_config(upstream)
    assert config.config is not None
    config.config.model = "nova-" + "3" * 1_000_000
    error = await _transcribe(speech, service, config)
    assert list(field_violations(error)) == ["config.model"]
    assert upstream.server.sessions == []
