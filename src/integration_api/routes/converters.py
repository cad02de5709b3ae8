"""The only code that knows both the generated route report messages and the domain's report:
the last message of every routed call (chat, embeddings, rerank and speech) carries it."""

from __future__ import annotations

import datetime
from typing import Any

from integration_api_proto.integration import v1 as pb
from integration_api_proto.integration.v1 import (
    AttemptOutcome,
    ChatChunk,
    EmbedResponse,
    RerankResponse,
    RouteAttempt,
    RouteReport,
    SynthesizeResponse,
    SynthesizeStreamResponse,
    TranscribeResponse,
)

from integration_api.embeddings.contract import EmbedResult, RerankAnswer
from integration_api.embeddings.converters import (
    embed_response_from_result,
    rerank_response_from_answer,
)
from integration_api.llm.converters import EncodedChatChunk, chunk_from_part
from integration_api.llm.wire import wire_class
from integration_api.routes import model
from integration_api.routes import speech as routed_speech
from integration_api.routes.chat import RoutedFinish
from integration_api.routes.embeddings import Routed
from integration_api.speech import converters as speech_converters
from integration_api.speech.contract import SynthesisDone, TranscriptionMetadata

_OUTCOMES: dict[model.AttemptOutcome, AttemptOutcome] = {
    "answered": AttemptOutcome.ANSWERED,
    "skipped_rate_limited": AttemptOutcome.SKIPPED_RATE_LIMITED,
    "skipped_breaker_open": AttemptOutcome.SKIPPED_BREAKER_OPEN,
    "skipped_unavailable": AttemptOutcome.SKIPPED_UNAVAILABLE,
    "unreachable": AttemptOutcome.UNREACHABLE,
    "rate_limited": AttemptOutcome.RATE_LIMITED,
    "provider_error": AttemptOutcome.PROVIDER_ERROR,
    "first_token_timeout": AttemptOutcome.FIRST_TOKEN_TIMEOUT,
    "key_refused": AttemptOutcome.KEY_REFUSED,
    "failed": AttemptOutcome.FAILED,
}


def route_report_message(report: model.RouteReport) -> RouteReport:
    return RouteReport(
        route_id=report.route_id,
        answered_by=report.answered_by or 0,
        answered=report.answered_by is not None,
        attempts=[
            RouteAttempt(
                target_index=attempt.target_index,
                credential_id=attempt.credential_id,
                provider=attempt.provider,
                model=attempt.model,
                outcome=_OUTCOMES[attempt.outcome],
                duration=datetime.timedelta(seconds=attempt.duration),
                reason=attempt.reason,
            )
            for attempt in report.attempts
        ],
    )


def chunk_from_routed_finish(part: RoutedFinish) -> ChatChunk:
    """The last chunk of a routed answer: the `Finish` with the route's report inside.

    Encoded by the protobuf runtime like every other chunk (`llm.converters`): the finish's
    bytes are read back into its message class and the report is added to them.
    """
    chunk = chunk_from_part(part.finish)
    assert isinstance(chunk, EncodedChatChunk) and chunk.finish is not None
    chunk.finish.route = route_report_message(part.route)
    wire: Any = wire_class("integration.v1.ChatChunk")()
    wire.ParseFromString(chunk.encoded)
    _write_report(wire.finish.route, part.route)
    chunk.encoded = bytes(wire.SerializeToString())
    return chunk


def _write_report(wire: Any, report: model.RouteReport) -> None:
    wire.route_id = report.route_id
    wire.answered = report.answered_by is not None
    wire.answered_by = report.answered_by or 0
    for attempt in report.attempts:
        item = wire.attempts.add()
        item.target_index = attempt.target_index
        item.credential_id = attempt.credential_id
        item.provider = attempt.provider
        item.model = attempt.model
        item.outcome = int(_OUTCOMES[attempt.outcome])
        item.duration.FromNanoseconds(round(attempt.duration * 1e9))
        item.reason = attempt.reason


def embed_response_from_routed(routed: Routed[EmbedResult]) -> EmbedResponse:
    response = embed_response_from_result(routed.answer)
    response.route = route_report_message(routed.route)
    return response


def rerank_response_from_routed(routed: Routed[RerankAnswer]) -> RerankResponse:
    response = rerank_response_from_answer(routed.answer)
    response.route = route_report_message(routed.route)
    return response


def transcribe_response_from_routed(
    routed: routed_speech.Routed[TranscriptionMetadata],
) -> TranscribeResponse:
    response = speech_converters.transcribe_response(routed.event)
    _carry_report(response.metadata, routed.report)
    return response


def synthesize_response_from_routed(
    routed: routed_speech.Routed[SynthesisDone],
) -> SynthesizeResponse:
    response = speech_converters.synthesize_response(routed.event)
    _carry_report(response.done, routed.report)
    return response


def synthesize_stream_response_from_routed(
    routed: routed_speech.Routed[SynthesisDone],
) -> SynthesizeStreamResponse:
    response = speech_converters.synthesize_stream_response(routed.event)
    _carry_report(response.done, routed.report)
    return response


def _carry_report(
    last: pb.TranscriptionMetadata | pb.SynthesisDone | None, report: model.RouteReport
) -> None:
    """Adds the report to a routed speech call's last message (its metadata, or done)."""
    assert last is not None  # the speech converters always set the final event's message
    last.route = route_report_message(report)
