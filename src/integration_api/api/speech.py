"""SpeechService: transcribes and synthesizes through stored credentials or stored routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import TypeVar, cast

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
from integration_api.routes.converters import (
    synthesize_response_from_routed,
    synthesize_stream_response_from_routed,
    transcribe_response_from_routed,
)
from integration_api.routes.speech import Routed, RoutedSpeech
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
    def __init__(
        self,
        speech: SpeechService[SpeechTransport],
        routed: RoutedSpeech[SpeechTransport],
    ) -> None:
        self._speech = speech
        self._routed = routed

    async def transcribe(
        self,
        request: AsyncIterator[TranscribeRequest],
        context: grpc.aio.ServicerContext[TranscribeRequest, TranscribeResponse],
    ) -> AsyncIterator[TranscribeResponse]:
        first = await _first_config(request)
        assert first.config is not None  # _first_config checked the oneof
        options = converters.transcription_options(first.config)
        inputs = converters.transcribe_inputs(request)
        tenant = require_principal().tenant
        if options.route_id:
            async with aclosing(self._routed.transcribe(tenant, options, inputs)) as events:
                async for routed in events:
                    if isinstance(routed, Routed):
                        yield transcribe_response_from_routed(routed)
                    else:
                        yield converters.transcribe_response(routed)
            return
        # Closed as soon as the call ends (a cancel included), never later by the collector.
        async with aclosing(self._speech.transcribe(tenant, options, inputs)) as direct:
            async for event in direct:
                yield converters.transcribe_response(event)

    async def synthesize(
        self,
        request: SynthesizeRequest,
        context: grpc.aio.ServicerContext[SynthesizeRequest, SynthesizeResponse],
    ) -> AsyncIterator[SynthesizeResponse]:
        options = converters.synthesis_options(request.config)
        tenant = require_principal().tenant
        if options.route_id:
            async with aclosing(self._routed.synthesize(tenant, options, request.text)) as events:
                async for routed in events:
                    if isinstance(routed, Routed):
                        yield synthesize_response_from_routed(routed)
                    else:
                        yield converters.synthesize_response(routed)
            return
        async with aclosing(self._speech.synthesize(tenant, options, request.text)) as direct:
            async for event in direct:
                encoded = converters.encoded_audio(event)
                # Already encoded, audio passes the response serializer unchanged.
                yield (
                    cast(SynthesizeResponse, encoded)
                    if encoded is not None
                    else converters.synthesize_response(event)
                )

    async def synthesize_stream(
        self,
        request: AsyncIterator[SynthesizeStreamRequest],
        context: grpc.aio.ServicerContext[SynthesizeStreamRequest, SynthesizeStreamResponse],
    ) -> AsyncIterator[SynthesizeStreamResponse]:
        first = await _first_config(request)
        options = converters.synthesis_options(first.config)
        inputs = converters.synthesis_inputs(request)
        tenant = require_principal().tenant
        if options.route_id:
            stream = self._routed.synthesize_stream(tenant, options, inputs)
            async with aclosing(stream) as events:
                async for routed in events:
                    if isinstance(routed, Routed):
                        yield synthesize_stream_response_from_routed(routed)
                    else:
                        yield converters.synthesize_stream_response(routed)
            return
        async with aclosing(self._speech.synthesize_stream(tenant, options, inputs)) as direct:
            async for event in direct:
                encoded = converters.encoded_audio(event)
                yield (
                    cast(SynthesizeStreamResponse, encoded)
                    if encoded is not None
                    else converters.synthesize_stream_response(event)
                )
