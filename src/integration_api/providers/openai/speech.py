"""OpenAI text-to-speech: `POST /v1/audio/speech`, its audio streamed as it is produced.

See: https://platform.openai.com/docs/api-reference/audio/createSpeech.
The service asks for `response_format: pcm`, raw 16-bit little-endian samples at 24 kHz
without a header, the only raw audio OpenAI produces: μ-law, A-law and other sample rates are
refused (the service never resamples). The answer is chunked binary audio that ends with the
body; a body cut short is a transport error, never a clean end. OpenAI has no streaming-input
speech endpoint, so `SynthesizeStream` is not offered for OpenAI keys.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import InvalidArgument
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.openai.chat_stream import request_id_of
from integration_api.providers.openai.family import OPENAI
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.providers.synthesized_audio import synthesized_audio
from integration_api.speech.contract import (
    AudioEncoding,
    AudioFormat,
    SynthesisEvent,
    SynthesisOptions,
)

PROVIDER = OPENAI.provider
DEFAULT_MODEL = "gpt-4o-mini-tts"
DEFAULT_VOICE = "alloy"
PCM_RATE_HZ = 24000
# OpenAI's own bound on `input`; a longer text is refused before anything is sent.
MAX_INPUT_CHARACTERS = 4096


def speech_format_problem(audio: AudioFormat) -> str | None:
    if audio.encoding is AudioEncoding.LINEAR16 and audio.sample_rate_hz == PCM_RATE_HZ:
        return None
    return (
        f"openai produces no {audio.encoding.value} at {audio.sample_rate_hz} Hz "
        f"(linear16 at {PCM_RATE_HZ} Hz only; audio is never resampled)"
    )


class OpenAISynthesizer:
    """`POST /v1/audio/speech` with `response_format: pcm`: raw audio as it is produced."""

    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        return speech_format_problem(audio)

    async def synthesize(
        self,
        credential: ProviderCredential,
        options: SynthesisOptions,
        text: str,
        transport: SpeechTransport,
    ) -> AsyncGenerator[SynthesisEvent, None]:
        if len(text) > MAX_INPUT_CHARACTERS:
            raise InvalidArgument.for_field(
                "text", f"openai speaks at most {MAX_INPUT_CHARACTERS} characters per request"
            )
        url = join_url(resolve_base_url(PROVIDER, credential.config), "audio/speech")
        body = {
            # A credential's default model is a chat model: speech has its own default.
            "model": options.model or DEFAULT_MODEL,
            "input": text,
            "voice": options.voice or DEFAULT_VOICE,
            "response_format": "pcm",
        }
        async for event in synthesized_audio(
            transport.http,
            url,
            provider=PROVIDER,
            text=text,
            headers={**OPENAI.headers(credential), "Accept": "application/octet-stream"},
            json_body=body,
            secrets=(api_key_of(credential),),
            request_id_of=request_id_of,
        ):
            yield event
