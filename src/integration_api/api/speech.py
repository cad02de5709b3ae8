"""SpeechService: transcribes and synthesizes through stored credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeVar

import betterproto2
import grpc.aio
from integration_api_proto.integration.v1 import (
    SynthesizeRequest,
    SynthesizeResponse,
    SynthesizeStreamRequest,
    SynthesizeStreamResponse,
    TranscribeRequest,
    TranscribeResponse,
    grpc_aio,
)

from integration_api.call_context import require_principal
from integration_api.errors import InvalidArgument
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.speech import converters
from integration_api.speech.pipeline import SpeechService

R = TypeVar("R", TranscribeRequest, SynthesizeStreamRequest)


async def _first_config(requests: AsyncIterator[R]) -> R:
    """The stream's first request, which must carry the configuration."""
    first = await anext(requests, None)
    if first is None or betterproto2.which_one_of(first, "kind")[0] != "config":
        raise InvalidArgument.for_field("config", "the first request must carry it")
    return first


class SpeechServicer(grpc_aio.SpeechServiceBase):
    def __init__(self, speech: SpeechService[SpeechTransport]) -> None:
        self._speech = speech

    async def transcribe(
        self,
        request: AsyncIterator[TranscribeRequest],
        context: grpc.aio.ServicerContext[TranscribeRequest, TranscribeResponse],
    ) -> AsyncIterator[TranscribeResponse]:
        first = await _first_config(request)
        assert first.config is not None  # _first_config checked the oneof
        options = converters.transcription_options(first.config)
        inputs = converters.transcribe_inputs(request)
        async for event in self._speech.transcribe(require_principal().tenant, options, inputs):
            yield converters.transcribe_response(event)

    async def synthesize(
        self,
        request: SynthesizeRequest,
        context: grpc.aio.ServicerContext[SynthesizeRequest, SynthesizeResponse],
    ) -> AsyncIterator[SynthesizeResponse]:
        options = converters.synthesis_options(request.config)
        tenant = require_principal().tenant
        async for event in self._speech.synthesize(tenant, options, request.text):
            yield converters.synthesize_response(event)

    async def synthesize_stream(
        self,
        request: AsyncIterator[SynthesizeStreamRequest],
        context: grpc.aio.ServicerContext[SynthesizeStreamRequest, SynthesizeStreamResponse],
    ) -> AsyncIterator[SynthesizeStreamResponse]:
        first = await _first_config(request)
        options = converters.synthesis_options(first.config)
        inputs = converters.synthesis_inputs(request)
        tenant = require_principal().tenant
        async for event in self._speech.synthesize_stream(tenant, options, inputs):
            yield converters.synthesize_stream_response(event)
