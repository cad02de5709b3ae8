"""One speech session from credential to its final event: resolve, check, cap, stream, time,
count (`speech.metrics`, kept here alike for every provider).

Every session holds one of its tenant's speech slots while it runs. The audio it moves and the
text it sends are counted against their caps as they pass, so a session past a cap ends at
once with a status naming it; so does a session past its duration or whose caller went silent
(`speech.session_bounds`). A provider session that ends without its final event
(`TranscriptionMetadata`, `SynthesisDone`) is truncated, never complete; a provider refusing
the stored key becomes the credential's last check.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import AbstractContextManager, aclosing, asynccontextmanager
from typing import Generic, Protocol, TypeVar

from integration_api.config.speech_limits import DEFAULT_SPEECH_LIMITS, SpeechLimits
from integration_api.credentials.call_gate import CallGate, GatedRequest
from integration_api.credentials.local_gate import LocalCallGate
from integration_api.credentials.model import ProviderCredential
from integration_api.errors import (
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    ServiceError,
)
from integration_api.llm.pipeline import CAPABILITY_NOT_SUPPORTED, note_rejection
from integration_api.llm.ports import CredentialSource
from integration_api.llm.tenant_calls import TenantCallLimiter
from integration_api.principal import Tenant
from integration_api.speech.contract import (
    AudioChunk,
    AudioFormat,
    AudioInput,
    SynthesisDone,
    SynthesisEvent,
    SynthesisInput,
    SynthesisOptions,
    TextInput,
    TranscribeInput,
    Transcript,
    TranscriptEvent,
    TranscriptionMetadata,
    TranscriptionOptions,
)
from integration_api.speech.metrics import (
    SYNTHESIZE,
    SYNTHESIZE_STREAM,
    TRANSCRIBE,
    SessionMetrics,
)
from integration_api.speech.ports import (
    FormatSupport,
    StreamSynthesizer,
    Synthesizer,
    Transcriber,
)
from integration_api.speech.session_bounds import SessionBounds
from integration_api.speech.whole_samples import WholeSamples
from integration_api.upstream.answer_bounds import check_answer
from integration_api.upstream.stream_errors import truncated

AUDIO_LIMIT = "SPEECH_AUDIO_LIMIT"
TEXT_LIMIT = "SPEECH_TEXT_LIMIT"
SESSION_LIMIT = "SPEECH_SESSION_LIMIT"
AUDIO_FIELD = "config.audio"

T = TypeVar("T")
M = TypeVar("M")
# The transport a provider session reaches its provider with; the pipeline only passes it on.
TransportT = TypeVar("TransportT")
TransportT_contra = TypeVar("TransportT_contra", contravariant=True)


class SpeechCapabilities(Protocol[TransportT_contra]):
    @property
    def transcribe(self) -> Transcriber[TransportT_contra] | None: ...
    @property
    def synthesize(self) -> Synthesizer[TransportT_contra] | None: ...
    @property
    def synthesize_stream(self) -> StreamSynthesizer[TransportT_contra] | None: ...


CapabilityLookup = Callable[[str], SpeechCapabilities[TransportT]]


def audio_limit(limit: int) -> ResourceExhausted:
    error = ResourceExhausted(
        f"the session moved more than {limit} bytes of audio, its limit", reason=AUDIO_LIMIT
    )
    error.retryable = False
    return error


@asynccontextmanager
async def entered(manager: AbstractContextManager[M]) -> AsyncIterator[M]:
    """A plain context manager inside an `async with` next to the session's slot."""
    with manager as value:
        yield value


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


def _check_format(capability: FormatSupport, audio: AudioFormat) -> None:
    problem = capability.format_problem(audio)
    if problem is not None:
        raise InvalidArgument.for_field(AUDIO_FIELD, problem)


def _unsupported(credential: ProviderCredential, what: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"{credential.provider} credentials cannot be used for {what}",
        reason=CAPABILITY_NOT_SUPPORTED,
        provider=credential.provider,
    )


class _Clock:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first_audio: float | None = None

    def audio(self) -> None:
        if self.first_audio is None:
            self.first_audio = time.perf_counter() - self.started

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


class SpeechService(Generic[TransportT]):
    """Transcribes and synthesizes through stored credentials."""

    def __init__(
        self,
        credentials: CredentialSource,
        transport: Callable[[], TransportT],
        capabilities_for: CapabilityLookup[TransportT],
        limits: SpeechLimits = DEFAULT_SPEECH_LIMITS,
        sessions: TenantCallLimiter | None = None,
        gate: CallGate | None = None,
    ) -> None:
        self._credentials = credentials
        self._transport = transport
        self._capabilities_for = capabilities_for
        self._limits = limits
        self._sessions = sessions or TenantCallLimiter(
            limits.max_sessions_per_tenant, session_limit
        )
        self._gate = gate or LocalCallGate()

    def _bounds(self) -> SessionBounds:
        return SessionBounds(self._limits.max_session_seconds, self._limits.max_caller_idle_seconds)

    async def _credential(self, tenant: Tenant, credential_id: str) -> ProviderCredential:
        if not credential_id.strip():
            raise InvalidArgument.for_field("config.credential_id", "is required")
        return await self._credentials.resolve_for_use(tenant, credential_id)

    async def transcribe(
        self,
        tenant: Tenant,
        options: TranscriptionOptions,
        inputs: AsyncIterator[TranscribeInput],
    ) -> AsyncGenerator[TranscriptEvent, None]:
        """Transcript events, ending with one `TranscriptionMetadata`, or the typed error."""
        credential = await self._credential(tenant, options.credential_id)
        transcriber = self._capabilities_for(credential.provider).transcribe
        if transcriber is None:
            raise _unsupported(credential, "transcription")
        _check_format(transcriber, options.audio)
        async with (
            self._sessions.slot(tenant),
            entered(SessionMetrics(credential.provider, TRANSCRIBE, options.audio)) as watch,
        ):
            bounds = self._bounds()
            counted = _AudioCounter(self._limits.max_audio_bytes, watch)
            events = transcriber.transcribe(
                credential, options, counted.wrap(bounds.caller(inputs)), self._transport()
            )
            async with aclosing(self._guarded(tenant, credential, events)) as guarded:
                async for event in guarded:
                    bounds.check()
                    if isinstance(event, Transcript):
                        watch.transcript()
                    elif isinstance(event, TranscriptionMetadata):
                        watch.completed()
                        yield dataclasses.replace(event, audio_bytes=counted.total)
                        return
                    yield event
            raise truncated(credential.provider)

    async def synthesize(
        self, tenant: Tenant, options: SynthesisOptions, text: str
    ) -> AsyncGenerator[SynthesisEvent, None]:
        """Audio (and alignment) as produced, then one `SynthesisDone`, or the typed error."""
        if not text.strip():
            raise InvalidArgument.for_field("text", "is empty")
        if len(text) > self._limits.max_text_characters:
            raise text_limit(self._limits.max_text_characters)
        credential = await self._credential(tenant, options.credential_id)
        synthesizer = self._capabilities_for(credential.provider).synthesize
        if synthesizer is None:
            raise _unsupported(credential, "synthesis")
        _check_format(synthesizer, options.audio)
        async with (
            self._sessions.slot(tenant),
            entered(SessionMetrics(credential.provider, SYNTHESIZE, options.audio)) as watch,
        ):
            watch.text_sent()  # the request carries it
            events = synthesizer.synthesize(credential, options, text, self._transport())
            bounds = self._bounds()
            synthesis = self._synthesis(tenant, credential, options.audio, events, watch, bounds)
            async for event in synthesis:
                yield event

    async def synthesize_stream(
        self, tenant: Tenant, options: SynthesisOptions, inputs: AsyncIterator[SynthesisInput]
    ) -> AsyncGenerator[SynthesisEvent, None]:
        """Audio, alignment, `Flushed` and `Cleared` as they come, then one `SynthesisDone`."""
        credential = await self._credential(tenant, options.credential_id)
        streaming = self._capabilities_for(credential.provider).synthesize_stream
        if streaming is None:
            raise _unsupported(credential, "streaming synthesis")
        _check_format(streaming, options.audio)
        async with (
            self._sessions.slot(tenant),
            entered(SessionMetrics(credential.provider, SYNTHESIZE_STREAM, options.audio)) as watch,
        ):
            bounds = self._bounds()
            limited = _limit_text(bounds.caller(inputs), self._limits.max_text_characters, watch)
            events = streaming.synthesize_stream(credential, options, limited, self._transport())
            synthesis = self._synthesis(tenant, credential, options.audio, events, watch, bounds)
            async for event in synthesis:
                yield event

    async def _synthesis(
        self,
        tenant: Tenant,
        credential: ProviderCredential,
        audio: AudioFormat,
        events: AsyncGenerator[SynthesisEvent, None],
        watch: SessionMetrics,
        bounds: SessionBounds,
    ) -> AsyncIterator[SynthesisEvent]:
        clock = _Clock()
        audio_bytes = 0
        samples = WholeSamples.of(audio)
        async with aclosing(self._guarded(tenant, credential, events)) as guarded:
            async for event in guarded:
                bounds.check()
                if samples is not None:
                    whole = samples.cut(event)
                    if whole is None:
                        continue
                    event = whole
                if isinstance(event, AudioChunk):
                    clock.audio()
                    watch.audio_out(len(event.data))
                    audio_bytes += len(event.data)
                    if audio_bytes > self._limits.max_audio_bytes:
                        raise audio_limit(self._limits.max_audio_bytes)
                if isinstance(event, SynthesisDone):
                    watch.completed()
                    yield dataclasses.replace(
                        event,
                        audio_bytes=audio_bytes,
                        time_to_first_audio=clock.first_audio,
                        duration=clock.elapsed(),
                    )
                    return
                yield event
        raise truncated(credential.provider)

    async def _guarded(
        self, tenant: Tenant, credential: ProviderCredential, events: AsyncGenerator[T, None]
    ) -> AsyncGenerator[T, None]:
        """The provider's events, through the credential's gate (a session is one request); its
        refusal of the key is recorded; it is always closed.

        Callers close it (`aclosing`) as soon as they stop reading, so the provider session
        ends before the call does, never later when the garbage collector finds it.
        """
        try:
            gated = await GatedRequest.enter(self._gate, credential)
        except BaseException:
            await events.aclose()
            raise
        failure: BaseException | None = None
        try:
            async for event in events:
                check_answer(event, credential.provider)
                yield event
        except ServiceError as error:
            failure = error
            await note_rejection(self._credentials, tenant, credential.id, error)
            raise
        except BaseException as error:
            failure = error
            raise
        finally:
            await events.aclose()
            await gated.leave(failure)


class _AudioCounter:
    def __init__(self, limit: int, watch: SessionMetrics) -> None:
        self._limit = limit
        self._watch = watch
        self.total = 0

    async def wrap(self, inputs: AsyncIterator[TranscribeInput]) -> AsyncIterator[TranscribeInput]:
        async for item in inputs:
            if isinstance(item, AudioInput):
                self.total += len(item.data)
                if self.total > self._limit:
                    raise audio_limit(self._limit)
                self._watch.audio_in(len(item.data))
            yield item


async def _limit_text(
    inputs: AsyncIterator[SynthesisInput], limit: int, watch: SessionMetrics
) -> AsyncIterator[SynthesisInput]:
    characters = 0
    async for item in inputs:
        if isinstance(item, TextInput):
            characters += len(item.text)
            if characters > limit:
                raise text_limit(limit)
            if item.text:
                watch.text_sent()
        yield item
