"""A speech session's caps: how much audio and text it may move, how many sessions a tenant
may hold, and the counters that enforce the first two as the session runs."""

from __future__ import annotations

from collections.abc import AsyncIterator

from integration_api.errors import InvalidArgument, ResourceExhausted
from integration_api.speech.contract import (
    AudioInput,
    SynthesisInput,
    TextInput,
    TranscribeInput,
)
from integration_api.speech.metrics import SessionMetrics
from integration_api.usage.meter import UsageMeter

AUDIO_LIMIT = "SPEECH_AUDIO_LIMIT"
TEXT_LIMIT = "SPEECH_TEXT_LIMIT"
SESSION_LIMIT = "SPEECH_SESSION_LIMIT"


def audio_limit(limit: int) -> ResourceExhausted:
    error = ResourceExhausted(
        f"the session moved more than {limit} bytes of audio, its limit", reason=AUDIO_LIMIT
    )
    error.retryable = False
    return error


def session_limit(limit: int) -> ResourceExhausted:
    """Retryable: a slot frees as soon as one of the tenant's sessions ends."""
    return ResourceExhausted(
        f"this tenant already has {limit} speech sessions open, its limit",
        reason=SESSION_LIMIT,
        retry_after_seconds=1.0,
    )


def text_limit(limit: int) -> InvalidArgument:
    return InvalidArgument(
        f"the synthesis sent more than {limit} characters of text, its limit", reason=TEXT_LIMIT
    )


class AudioCounter:
    """The audio forwarded to the provider, within its limit (and into the session's metrics)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self.watch: SessionMetrics | None = None
        self.total = 0

    async def wrap(self, inputs: AsyncIterator[TranscribeInput]) -> AsyncIterator[TranscribeInput]:
        async for item in inputs:
            if isinstance(item, AudioInput):
                self.total += len(item.data)
                if self.total > self._limit:
                    raise audio_limit(self._limit)
                if self.watch is not None:
                    self.watch.audio_in(len(item.data))
            yield item


async def limit_text(
    inputs: AsyncIterator[SynthesisInput], limit: int, watch: SessionMetrics, meter: UsageMeter
) -> AsyncIterator[SynthesisInput]:
    characters = 0
    async for item in inputs:
        if isinstance(item, TextInput):
            characters += len(item.text)
            if characters > limit:
                raise text_limit(limit)
            meter.characters = characters  # sent to the provider (a cleared text was billed)
            if item.text:
                watch.text_sent()
        yield item
