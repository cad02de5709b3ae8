"""Speech through a route: Transcribe, Synthesize and SynthesizeStream try the route's targets
in turn until one produces its first content — a transcript, an audio byte, or its final event.

Each attempt is a whole session of the speech pipeline with the target's credential and model
(and voice), so every cap, metric and check of a call naming a credential applies to it as well.
Before the first content an attempt's events are held back (an alignment, a `Flushed`) and
dropped if it fails, so the caller never gets anything of a failed target; the one exception is
`SpeechStarted`, which a voice agent acts on at once (barge-in): it is passed on when it comes,
and a next target's own, which describes the same replayed audio, is not repeated. After the
first content the call is bound to that target: a failure ends it non-OK, as it would without
a route.

What the caller sent to a failed target is replayed to the next (`speech_replay`): up to
`REPLAY_AUDIO_BYTES` of audio for Transcribe (10 s of 16 kHz 16-bit audio, 20 s of 8 kHz
G.711), up to `REPLAY_TEXT_CHARACTERS` of text for SynthesizeStream. Past that bound the call
can no longer move on.

The route's first-content deadline bounds every target but the last (ending the last one early
could only turn a slow answer into none). For Synthesize it runs from the start of the attempt;
for Transcribe and SynthesizeStream from when the target owes an answer: the caller's finalize
or flush, or the end of the caller's stream. Before that, no transcript may simply mean nobody
spoke yet, and no audio that the provider waits for more text.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Generic, TypeVar

from integration_api.principal import Tenant
from integration_api.routes.model import RouteReport, RouteTarget
from integration_api.routes.ports import RouteSource
from integration_api.routes.speech_call import AttemptCall, Operation, RoutedCall
from integration_api.routes.speech_replay import Feed, ReplayableInputs
from integration_api.routes.usage import tenant_admitted
from integration_api.speech.contract import (
    AudioChunk,
    AudioInput,
    FinalizeInput,
    FlushInput,
    SpeechStarted,
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
from integration_api.speech.metrics import SYNTHESIZE, SYNTHESIZE_STREAM, TRANSCRIBE
from integration_api.speech.pipeline import SpeechService
from integration_api.usage.ports import NO_BUDGETS, BudgetGuard

# 10 s of 16 kHz linear16, 20 s of 8 kHz G.711: a caller's first turn, rarely more, before a
# provider's failure shows. Replaying more would make the next target's first transcript late.
REPLAY_AUDIO_BYTES = 320_000
# A few sentences of an LLM's answer: more than is sent before the first audio comes back.
REPLAY_TEXT_CHARACTERS = 4_000

EndT = TypeVar("EndT", TranscriptionMetadata, SynthesisDone)
TransportT = TypeVar("TransportT")
EventT = TypeVar("EventT", TranscriptEvent, SynthesisEvent)
InputT = TypeVar("InputT", TranscribeInput, SynthesisInput)


@dataclass(frozen=True)
class Routed(Generic[EndT]):
    """The last event of a routed call, with the route's report."""

    event: EndT
    report: RouteReport


_TRANSCRIBE: Operation[TranscriptEvent] = Operation(
    TRANSCRIBE,
    is_content=lambda event: isinstance(event, Transcript | TranscriptionMetadata),
    is_passed_early=lambda event: isinstance(event, SpeechStarted),
)


def _synthesis(name: str) -> Operation[SynthesisEvent]:
    return Operation(
        name,
        is_content=lambda event: isinstance(event, AudioChunk | SynthesisDone),
        is_passed_early=lambda _event: False,
    )


_SYNTHESIZE = _synthesis(SYNTHESIZE)
_SYNTHESIZE_STREAM = _synthesis(SYNTHESIZE_STREAM)


def _audio_size(item: TranscribeInput) -> int:
    return len(item.data) if isinstance(item, AudioInput) else 0


def _text_size(item: SynthesisInput) -> int:
    return len(item.text) if isinstance(item, TextInput) else 0


def _targeted(options: SynthesisOptions, target: RouteTarget) -> SynthesisOptions:
    return dataclasses.replace(
        options,
        credential_id=target.credential_id,
        model=target.model or options.model,
        voice=target.voice or options.voice,
        route_id="",
    )


class RoutedSpeech(Generic[TransportT]):
    """The speech pipeline, through a tenant's stored routes."""

    def __init__(
        self,
        speech: SpeechService[TransportT],
        routes: RouteSource,
        chooser: random.Random | None = None,
        *,
        budgets: BudgetGuard = NO_BUDGETS,
    ) -> None:
        self._speech = speech
        self._routes = routes
        self._chooser = chooser
        self._budgets = budgets

    def transcribe(
        self, tenant: Tenant, options: TranscriptionOptions, inputs: AsyncIterator[TranscribeInput]
    ) -> AsyncGenerator[TranscriptEvent | Routed[TranscriptionMetadata], None]:
        """Transcript events of the answering target, its metadata last with the report."""
        replay = ReplayableInputs(
            inputs,
            size=_audio_size,
            limit=REPLAY_AUDIO_BYTES,
            owes=lambda item: isinstance(item, FinalizeInput),
        )

        def attempt(
            target: RouteTarget, feed: Feed[TranscribeInput] | None
        ) -> AsyncGenerator[TranscriptEvent, None]:
            assert feed is not None  # every Transcribe attempt reads the caller's audio
            targeted = dataclasses.replace(
                options,
                credential_id=target.credential_id,
                model=target.model or options.model,
                route_id="",
            )
            return self._speech.transcribe(tenant, targeted, aiter(feed))

        call = _Call(tenant, options.route_id, _TRANSCRIBE, options.model)
        return self._run(call, attempt, replay, TranscriptionMetadata)

    def synthesize(
        self, tenant: Tenant, options: SynthesisOptions, text: str
    ) -> AsyncGenerator[SynthesisEvent | Routed[SynthesisDone], None]:
        """The answering target's audio, its `SynthesisDone` last with the report."""

        def attempt(
            target: RouteTarget, _feed: Feed[SynthesisInput] | None
        ) -> AsyncGenerator[SynthesisEvent, None]:
            return self._speech.synthesize(tenant, _targeted(options, target), text)

        call = _Call(tenant, options.route_id, _SYNTHESIZE, options.model)
        return self._run(call, attempt, None, SynthesisDone)

    def synthesize_stream(
        self, tenant: Tenant, options: SynthesisOptions, inputs: AsyncIterator[SynthesisInput]
    ) -> AsyncGenerator[SynthesisEvent | Routed[SynthesisDone], None]:
        """Like `synthesize`, for text in fragments: what a failed target was sent is replayed."""
        replay = ReplayableInputs(
            inputs,
            size=_text_size,
            limit=REPLAY_TEXT_CHARACTERS,
            owes=lambda item: isinstance(item, FlushInput),
        )

        def attempt(
            target: RouteTarget, feed: Feed[SynthesisInput] | None
        ) -> AsyncGenerator[SynthesisEvent, None]:
            assert feed is not None  # every SynthesizeStream attempt reads the caller's text
            return self._speech.synthesize_stream(tenant, _targeted(options, target), aiter(feed))

        call = _Call(tenant, options.route_id, _SYNTHESIZE_STREAM, options.model)
        return self._run(call, attempt, replay, SynthesisDone)

    async def _run(
        self,
        call: _Call[EventT],
        attempt: AttemptCall[InputT, EventT],
        replay: ReplayableInputs[InputT] | None,
        last: type[EndT],
    ) -> AsyncGenerator[EventT | Routed[EndT], None]:
        """The call's events, its `last` one with the route's report.

        An operation reading a stream of the caller's (`replay`) owes its first content from
        the caller's finalize or flush; one without, from the start of each attempt.
        """
        try:
            route = await self._routes.route_for_use(call.tenant, call.route_id)
            tenant_admitted(self._budgets, call.tenant)
            routed = RoutedCall(call.tenant, route, call.operation, call.model, self._chooser)
            run = routed.run(attempt, replay, deadline_from_start=replay is None)
            async with aclosing(run) as events:
                async for event in events:
                    if isinstance(event, last):
                        routed.answered_with(event.provider)
                        yield Routed(event, routed.report())
                    else:
                        yield event
        finally:
            if replay is not None:
                await replay.close()


@dataclass(frozen=True)
class _Call(Generic[EventT]):
    """What the caller asked for: the route, the operation, the model where a target names none."""

    tenant: Tenant
    route_id: str
    operation: Operation[EventT]
    model: str
