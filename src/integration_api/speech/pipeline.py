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
    ServiceError,
)
from integration_api.llm.pipeline import CAPABILITY_NOT_SUPPORTED, note_rejection, outcome_of
from integration_api.llm.ports import CredentialSource
from integration_api.llm.tenant_calls import TenantCallLimiter
from integration_api.principal import Tenant
from integration_api.speech.contract import (
    AudioChunk,
    AudioFormat,
    SynthesisDone,
    SynthesisEvent,
    SynthesisInput,
    SynthesisOptions,
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
from integration_api.speech.session_caps import (
    AUDIO_LIMIT,
    SESSION_LIMIT,
    TEXT_LIMIT,
    AudioCounter,
    audio_limit,
    limit_text,
    session_limit,
    text_limit,
)
from integration_api.speech.whole_samples import WholeSamples
from integration_api.upstream.answer_bounds import check_answer
from integration_api.upstream.stream_errors import truncated
from integration_api.usage.meter import UsageMeter
from integration_api.usage.ports import NO_BUDGETS, NO_LEDGER, BudgetGuard, UsageLedger

AUDIO_FIELD = "config.audio"
# The caps' names, where the routes and the assembly have always found them.
__all__ = ["AUDIO_LIMIT", "SESSION_LIMIT", "TEXT_LIMIT", "SpeechService", "session_limit"]

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


@asynccontextmanager
async def entered(manager: AbstractContextManager[M]) -> AsyncIterator[M]:
    """A plain context manager inside an `async with` next to the session's slot."""
    with manager as value:
        yield value


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
        *,
        ledger: UsageLedger = NO_LEDGER,
        budgets: BudgetGuard = NO_BUDGETS,
    ) -> None:
        self._credentials = credentials
        self._transport = transport
        self._capabilities_for = capabilities_for
        self._limits = limits
        self._sessions = sessions or TenantCallLimiter(
            limits.max_sessions_per_tenant, session_limit
        )
        self._gate = gate or LocalCallGate()
        self._ledger = ledger
        self._budgets = budgets

    def _bounds(self) -> SessionBounds:
        return SessionBounds(self._limits.max_session_seconds, self._limits.max_caller_idle_seconds)

    async def _credential(self, tenant: Tenant, credential_id: str) -> ProviderCredential:
        if not credential_id.strip():
            raise InvalidArgument.for_field("config.credential_id", "is required")
        return await self._credentials.resolve_for_use(tenant, credential_id)

    def transcribe(
        self,
        tenant: Tenant,
        options: TranscriptionOptions,
        inputs: AsyncIterator[TranscribeInput],
    ) -> AsyncGenerator[TranscriptEvent, None]:
        """Transcript events, ending with one `TranscriptionMetadata`, or the typed error."""
        # Opened now, so it is attributed to the route attempt (if any) that asks for the session.
        meter = UsageMeter(self._ledger, tenant, TRANSCRIBE)
        return self._transcribe(meter, tenant, options, inputs)

    async def _transcribe(
        self,
        meter: UsageMeter,
        tenant: Tenant,
        options: TranscriptionOptions,
        inputs: AsyncIterator[TranscribeInput],
    ) -> AsyncGenerator[TranscriptEvent, None]:
        counted = AudioCounter(self._limits.max_audio_bytes)
        try:
            credential = await self._admitted(meter, tenant, options.credential_id, options.model)
            transcriber = self._capabilities_for(credential.provider).transcribe
            if transcriber is None:
                raise _unsupported(credential, "transcription")
            _check_format(transcriber, options.audio)
            self._budgets.admit(tenant, credential.id)
            async with (
                self._sessions.slot(tenant),
                entered(SessionMetrics(credential.provider, TRANSCRIBE, options.audio)) as watch,
            ):
                bounds = self._bounds()
                counted.watch = watch
                events = transcriber.transcribe(
                    credential, options, counted.wrap(bounds.caller(inputs)), self._transport()
                )
                async with aclosing(self._guarded(tenant, credential, events, meter)) as guarded:
                    async for event in guarded:
                        bounds.check()
                        if isinstance(event, Transcript):
                            watch.transcript()
                        elif isinstance(event, TranscriptionMetadata):
                            watch.completed()
                            meter.completed = True
                            meter.provider_request_id = event.provider_request_id
                            meter.audio_seconds_in = event.audio_duration
                            yield dataclasses.replace(event, audio_bytes=counted.total)
                            return
                        yield event
                raise truncated(credential.provider)
        except BaseException as error:
            meter.fail(outcome_of(error))
            raise
        finally:
            if meter.audio_seconds_in is None:
                # Not reported by the provider: what was forwarded to it (None for Opus).
                meter.audio_seconds_in = options.audio.seconds_of(counted.total)
            meter.end()

    def synthesize(
        self, tenant: Tenant, options: SynthesisOptions, text: str
    ) -> AsyncGenerator[SynthesisEvent, None]:
        """Audio (and alignment) as produced, then one `SynthesisDone`, or the typed error."""
        meter = UsageMeter(self._ledger, tenant, SYNTHESIZE)
        return self._synthesize(meter, tenant, options, text)

    async def _synthesize(
        self, meter: UsageMeter, tenant: Tenant, options: SynthesisOptions, text: str
    ) -> AsyncGenerator[SynthesisEvent, None]:
        try:
            if not text.strip():
                raise InvalidArgument.for_field("text", "is empty")
            if len(text) > self._limits.max_text_characters:
                raise text_limit(self._limits.max_text_characters)
            credential = await self._admitted(meter, tenant, options.credential_id, options.model)
            synthesizer = self._capabilities_for(credential.provider).synthesize
            if synthesizer is None:
                raise _unsupported(credential, "synthesis")
            _check_format(synthesizer, options.audio)
            self._budgets.admit(tenant, credential.id)
            meter.voice = options.voice
            meter.characters = len(text)  # the request carries it all
            async with (
                self._sessions.slot(tenant),
                entered(SessionMetrics(credential.provider, SYNTHESIZE, options.audio)) as watch,
            ):
                watch.text_sent()  # the request carries it
                events = synthesizer.synthesize(credential, options, text, self._transport())
                session = _Session(tenant, credential, watch, self._bounds(), meter, options.audio)
                async for event in self._synthesis(session, events):
                    yield event
        except BaseException as error:
            meter.fail(outcome_of(error))
            raise
        finally:
            meter.end()

    def synthesize_stream(
        self, tenant: Tenant, options: SynthesisOptions, inputs: AsyncIterator[SynthesisInput]
    ) -> AsyncGenerator[SynthesisEvent, None]:
        """Audio, alignment, `Flushed` and `Cleared` as they come, then one `SynthesisDone`."""
        meter = UsageMeter(self._ledger, tenant, SYNTHESIZE_STREAM)
        return self._synthesize_stream(meter, tenant, options, inputs)

    async def _synthesize_stream(
        self,
        meter: UsageMeter,
        tenant: Tenant,
        options: SynthesisOptions,
        inputs: AsyncIterator[SynthesisInput],
    ) -> AsyncGenerator[SynthesisEvent, None]:
        try:
            credential = await self._admitted(meter, tenant, options.credential_id, options.model)
            streaming = self._capabilities_for(credential.provider).synthesize_stream
            if streaming is None:
                raise _unsupported(credential, "streaming synthesis")
            _check_format(streaming, options.audio)
            self._budgets.admit(tenant, credential.id)
            meter.voice = options.voice
            meter.characters = 0
            async with (
                self._sessions.slot(tenant),
                entered(
                    SessionMetrics(credential.provider, SYNTHESIZE_STREAM, options.audio)
                ) as watch,
            ):
                bounds = self._bounds()
                limit = self._limits.max_text_characters
                limited = limit_text(bounds.caller(inputs), limit, watch, meter)
                transport = self._transport()
                events = streaming.synthesize_stream(credential, options, limited, transport)
                session = _Session(tenant, credential, watch, bounds, meter, options.audio)
                async for event in self._synthesis(session, events):
                    yield event
        except BaseException as error:
            meter.fail(outcome_of(error))
            raise
        finally:
            meter.end()

    async def _admitted(
        self, meter: UsageMeter, tenant: Tenant, credential_id: str, model: str
    ) -> ProviderCredential:
        """The session's credential, named in its record with the model it asks for."""
        credential = await self._credential(tenant, credential_id)
        meter.through(credential.provider, credential.id)
        meter.model = model or credential.config.default_model
        return credential

    async def _synthesis(
        self, session: _Session, events: AsyncGenerator[SynthesisEvent, None]
    ) -> AsyncIterator[SynthesisEvent]:
        clock = _Clock()
        audio_bytes = 0
        meter, watch = session.meter, session.watch
        samples = WholeSamples.of(session.audio)
        guarded = self._guarded(session.tenant, session.credential, events, meter)
        try:
            async with aclosing(guarded):
                async for event in guarded:
                    session.bounds.check()
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
                        meter.completed = True
                        meter.provider_request_id = event.provider_request_id
                        yield dataclasses.replace(
                            event,
                            audio_bytes=audio_bytes,
                            time_to_first_audio=clock.first_audio,
                            duration=clock.elapsed(),
                        )
                        return
                    yield event
            raise truncated(session.credential.provider)
        finally:
            # What was delivered (None for MP3 and Opus, whose length needs decoding).
            meter.audio_seconds_out = session.audio.seconds_of(audio_bytes)

    async def _guarded(
        self,
        tenant: Tenant,
        credential: ProviderCredential,
        events: AsyncGenerator[T, None],
        meter: UsageMeter,
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
        meter.sent = True  # past the gate: the session is being opened
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


@dataclasses.dataclass(frozen=True)
class _Session:
    """One synthesis session: whose, through what, and where its metrics and usage go."""

    tenant: Tenant
    credential: ProviderCredential
    watch: SessionMetrics
    bounds: SessionBounds
    meter: UsageMeter
    audio: AudioFormat
