"""Deepgram Aura text-to-speech: `POST /v1/speak` (streamed) and the `/v1/speak` WebSocket.

See: https://developers.deepgram.com/reference/text-to-speech-api/speak-streaming.
The voice is the model name (`aura-2-thalia-en`). REST audio is raw only with
`container=none` (its default would be a WAV header inside a telephony stream). On the socket:
`Speak` text, `Flush` (answered by `Flushed`), `Clear` (barge-in, answered by `Cleared`; audio
still in flight before it is dropped), and at the end `Flush`, wait for `Flushed`, then `Close`
(the docs disagree on whether `Close` flushes first). Errors are close frames with a reason.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import suppress

import structlog

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.deepgram.errors import classify_http
from integration_api.providers.deepgram.listen import close_error
from integration_api.providers.deepgram.verification import PROVIDER, deepgram_headers
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.providers.synthesized_audio import synthesized_audio
from integration_api.providers.websocket import (
    Binary,
    Closed,
    Duplex,
    ProviderSocket,
    SocketGone,
    Text,
    UnknownMessages,
    socket_url,
)
from integration_api.speech.contract import (
    AudioChunk,
    AudioEncoding,
    AudioFormat,
    Cleared,
    ClearInput,
    Flushed,
    FlushInput,
    SynthesisDone,
    SynthesisEvent,
    SynthesisInput,
    SynthesisOptions,
)
from integration_api.upstream.stream_errors import truncated

log = structlog.get_logger("integration_api.providers.deepgram")

DEFAULT_VOICE = "aura-2-thalia-en"
_RAW_RATES = {
    AudioEncoding.LINEAR16: (8000, 16000, 24000, 32000, 48000),
    AudioEncoding.MULAW: (8000, 16000),
    AudioEncoding.ALAW: (8000, 16000),
}
_MP3_RATE = 22050


def _model(credential: ProviderCredential, options: SynthesisOptions) -> str:
    return options.voice or options.model or credential.config.default_model or DEFAULT_VOICE


def _rate_problem(audio: AudioFormat, rates: tuple[int, ...], where: str) -> str | None:
    if audio.sample_rate_hz not in rates:
        listed = ", ".join(str(rate) for rate in rates)
        return f"deepgram {where} produces {audio.encoding.value} at {listed} Hz only"
    return None


def speak_params(
    credential: ProviderCredential, options: SynthesisOptions
) -> list[tuple[str, str]]:
    audio = options.audio
    params = [("model", _model(credential, options)), ("encoding", audio.encoding.value)]
    if audio.encoding is AudioEncoding.MP3:
        return params
    return [*params, ("sample_rate", str(audio.sample_rate_hz))]


class DeepgramSynthesizer:
    """`POST /v1/speak`, audio streamed back as it is produced."""

    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        if audio.encoding is AudioEncoding.MP3:
            return _rate_problem(audio, (_MP3_RATE,), "speech")
        rates = _RAW_RATES.get(audio.encoding)
        if rates is None:
            return f"deepgram produces no raw {audio.encoding.value}"
        return _rate_problem(audio, rates, "speech")

    async def synthesize(
        self,
        credential: ProviderCredential,
        options: SynthesisOptions,
        text: str,
        transport: SpeechTransport,
    ) -> AsyncGenerator[SynthesisEvent, None]:
        params = speak_params(credential, options)
        if options.audio.encoding is not AudioEncoding.MP3:
            params.append(("container", "none"))
        url = join_url(resolve_base_url(PROVIDER, credential.config), "v1/speak")
        async for event in synthesized_audio(
            transport.http,
            url,
            provider=PROVIDER,
            text=text,
            headers=deepgram_headers(credential),
            params=dict(params),
            json_body={"text": text},
            secrets=(api_key_of(credential),),
            classify_error=classify_http,
            request_id_of=lambda headers: headers.get("dg-request-id", ""),
        ):
            yield event


class DeepgramStreamSynthesizer:
    """The `/v1/speak` WebSocket: text fragments in, raw audio out."""

    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        rates = _RAW_RATES.get(audio.encoding)
        if rates is None:
            return f"deepgram streams no {audio.encoding.value}"
        return _rate_problem(audio, rates, "streaming speech")

    async def synthesize_stream(
        self,
        credential: ProviderCredential,
        options: SynthesisOptions,
        inputs: AsyncIterator[SynthesisInput],
        transport: SpeechTransport,
    ) -> AsyncGenerator[SynthesisEvent, None]:
        base = resolve_base_url(PROVIDER, credential.config)
        url = socket_url(base, "v1/speak", speak_params(credential, options))
        key = api_key_of(credential)
        async with transport.sockets.connect(
            url,
            provider=PROVIDER,
            headers=deepgram_headers(credential),
            secrets=(key,),
            end_of_input={"type": "Close"},
            classify_error=classify_http,
        ) as socket:
            session = _SpeakSession(socket, inputs)
            async for event in session.events():
                yield event


class _SpeakSession:
    def __init__(self, socket: ProviderSocket, inputs: AsyncIterator[SynthesisInput]) -> None:
        self._socket = socket
        self._inputs = inputs
        self._request_id = socket.response_headers.get("dg-request-id", "")
        self._flushes_sent = 0
        self._flushes_seen = 0
        self._clears_pending = 0
        self._input_ended = False
        self._closing = False
        self._characters = 0
        self._unknown = UnknownMessages(PROVIDER)
        self._warned = False

    async def _send(self) -> None:
        async for item in self._inputs:
            if isinstance(item, FlushInput):
                self._flushes_sent += 1
                await self._socket.send_json({"type": "Flush"})
            elif isinstance(item, ClearInput):
                self._clears_pending += 1
                await self._socket.send_json({"type": "Clear"})
            elif item.text:
                self._characters += len(item.text)
                await self._socket.send_json({"type": "Speak", "text": item.text})
        # The last flush speaks what remains; `Close` follows its `Flushed`.
        self._flushes_sent += 1
        self._input_ended = True
        await self._socket.send_json({"type": "Flush"})

    async def events(self) -> AsyncIterator[SynthesisEvent]:
        async for message in Duplex(self._socket, self._send).messages():
            if isinstance(message, Binary):
                # Audio still arriving for text a Clear dropped is not delivered.
                if self._clears_pending == 0 and message.data:
                    yield AudioChunk(message.data)
            elif isinstance(message, Text):
                event = await self._read(message)
                if event is not None:
                    yield event
            elif isinstance(message, Closed):
                yield self._finish(message)

    def _finish(self, closed: Closed) -> SynthesisDone:
        if not closed.normal:
            raise close_error(closed)
        if not self._closing:
            raise truncated(PROVIDER)
        return SynthesisDone(PROVIDER, self._request_id, characters=self._characters)

    async def _read(self, message: Text) -> SynthesisEvent | None:
        body = message.json()
        kind = body.get("type") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(kind, str):
            self._unknown.note("not a JSON object with a type")
            return None
        if kind == "Flushed":
            return await self._flushed()
        if kind == "Cleared":
            self._clears_pending = max(0, self._clears_pending - 1)
            return Cleared()
        if kind == "Metadata":
            self._request_id = str(body.get("request_id") or self._request_id)
        elif kind == "Warning":
            if not self._warned:  # the flush limit repeats it for every extra flush
                self._warned = True
                log.warning("deepgram warning", code=str(body.get("code", ""))[:64])
        else:
            self._unknown.note(kind)
        return None

    async def _flushed(self) -> Flushed | None:
        self._flushes_seen += 1
        if self._input_ended and self._flushes_seen >= self._flushes_sent:
            self._closing = True
            with suppress(SocketGone):  # already closing: the close frame tells how it ended
                await self._socket.send_end_of_input()
            return None
        return Flushed()
