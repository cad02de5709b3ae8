"""Speech synthesized over one HTTP request: the answer's raw audio, piece by piece, then done.

Deepgram's `/v1/speak`, OpenAI's `/v1/audio/speech`, ElevenLabs' `…/stream` and Cartesia's
`/tts/bytes` all answer a POST with the audio as it is produced; only the request and the header
that names the provider's request id differ.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping, Sequence

from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import ErrorClassifier
from integration_api.providers.transport import open_stream
from integration_api.speech.contract import AudioChunk, SynthesisDone, SynthesisEvent


def no_request_id(_headers: Mapping[str, str]) -> str:
    return ""


async def synthesized_audio(
    http: ProviderClient,
    url: str,
    *,
    provider: str,
    text: str,
    headers: Mapping[str, str],
    json_body: object,
    secrets: Sequence[str],
    params: Mapping[str, str] | None = None,
    classify_error: ErrorClassifier | None = None,
    request_id_of: Callable[[Mapping[str, str]], str] = no_request_id,
) -> AsyncGenerator[SynthesisEvent, None]:
    """POST the request, hand out each piece of audio as it arrives, end with `SynthesisDone`."""
    async with open_stream(
        http,
        "POST",
        url,
        provider=provider,
        headers=headers,
        params=params,
        json_body=json_body,
        secrets=secrets,
        classify_error=classify_error,
    ) as response:
        async for data in response.aiter_bytes():
            if data:
                yield AudioChunk(data)
        request_id = request_id_of(response.headers)
    yield SynthesisDone(provider, provider_request_id=request_id, characters=len(text))
