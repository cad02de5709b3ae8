"""Between the domain's route report and its message, for the last message of a routed speech
call: the only code knowing both."""

from __future__ import annotations

import datetime

from integration_api_proto.integration import v1 as pb

from integration_api.routes import model
from integration_api.routes.speech import Routed
from integration_api.speech import converters
from integration_api.speech.contract import SynthesisDone, TranscriptionMetadata

_OUTCOMES: dict[model.AttemptOutcome, pb.AttemptOutcome] = {
    "answered": pb.AttemptOutcome.ANSWERED,
    "skipped_rate_limited": pb.AttemptOutcome.SKIPPED_RATE_LIMITED,
    "skipped_breaker_open": pb.AttemptOutcome.SKIPPED_BREAKER_OPEN,
    "skipped_unavailable": pb.AttemptOutcome.SKIPPED_UNAVAILABLE,
    "unreachable": pb.AttemptOutcome.UNREACHABLE,
    "rate_limited": pb.AttemptOutcome.RATE_LIMITED,
    "provider_error": pb.AttemptOutcome.PROVIDER_ERROR,
    "first_token_timeout": pb.AttemptOutcome.FIRST_TOKEN_TIMEOUT,
    "key_refused": pb.AttemptOutcome.KEY_REFUSED,
    "failed": pb.AttemptOutcome.FAILED,
}


def route_report(report: model.RouteReport) -> pb.RouteReport:
    return pb.RouteReport(
        route_id=report.route_id,
        answered_by=report.answered_by or 0,
        answered=report.answered_by is not None,
        attempts=[
            pb.RouteAttempt(
                target_index=attempt.target_index,
                credential_id=attempt.credential_id,
                provider=attempt.provider,
                model=attempt.model,
                outcome=_OUTCOMES[attempt.outcome],
                duration=datetime.timedelta(seconds=max(0.0, attempt.duration)),
                reason=attempt.reason,
            )
            for attempt in report.attempts
        ],
    )


def transcribe_response(routed: Routed[TranscriptionMetadata]) -> pb.TranscribeResponse:
    response = converters.transcribe_response(routed.event)
    assert response.metadata is not None  # the metadata's own message
    response.metadata.route = route_report(routed.report)
    return response


def synthesize_response(routed: Routed[SynthesisDone]) -> pb.SynthesizeResponse:
    response = converters.synthesize_response(routed.event)
    assert response.done is not None  # the done's own message
    response.done.route = route_report(routed.report)
    return response


def synthesize_stream_response(routed: Routed[SynthesisDone]) -> pb.SynthesizeStreamResponse:
    response = converters.synthesize_stream_response(routed.event)
    assert response.done is not None  # the done's own message
    response.done.route = route_report(routed.report)
    return response
