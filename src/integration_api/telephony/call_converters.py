"""Between the generated telephony messages and the call contract: the only code knowing both."""

from __future__ import annotations

import datetime
import math
from types import MappingProxyType

import betterproto2
from integration_api_proto.integration import v1 as pb

from integration_api.errors import InvalidArgument
from integration_api.telephony.calls import (
    Call,
    CallChange,
    CallEvent,
    CallStatus,
    Instructions,
    InstructionsUrl,
    Markup,
    MediaStream,
    PlaceCall,
    Redirect,
    Transfer,
)

_EVENTS = {
    pb.CallEvent.INITIATED: CallEvent.INITIATED,
    pb.CallEvent.RINGING: CallEvent.RINGING,
    pb.CallEvent.ANSWERED: CallEvent.ANSWERED,
    pb.CallEvent.COMPLETED: CallEvent.COMPLETED,
}
_STATUSES = {
    CallStatus.UNKNOWN: pb.CallStatus.UNSPECIFIED,
    CallStatus.QUEUED: pb.CallStatus.QUEUED,
    CallStatus.RINGING: pb.CallStatus.RINGING,
    CallStatus.IN_PROGRESS: pb.CallStatus.IN_PROGRESS,
    CallStatus.COMPLETED: pb.CallStatus.COMPLETED,
    CallStatus.BUSY: pb.CallStatus.BUSY,
    CallStatus.NO_ANSWER: pb.CallStatus.NO_ANSWER,
    CallStatus.FAILED: pb.CallStatus.FAILED,
    CallStatus.CANCELED: pb.CallStatus.CANCELED,
}


def instructions_from(path: str, message: pb.CallInstructions | None) -> Instructions:
    kind = betterproto2.which_one_of(message, "instructions")[0] if message else ""
    if message is None or not kind:
        raise InvalidArgument.for_field(path, "must give a url, markup or a media_stream")
    if kind == "url":
        return InstructionsUrl(message.url or "")
    if kind == "markup":
        return Markup(message.markup or "")
    stream = message.media_stream or pb.MediaStream()
    return MediaStream(stream.url, MappingProxyType(dict(stream.parameters)))


def _events(values: list[pb.CallEvent]) -> tuple[CallEvent, ...]:
    events: list[CallEvent] = []
    for value in values:
        event = _EVENTS.get(value)
        if event is None:
            raise InvalidArgument.for_field("status_callback_events", "holds an unknown event")
        if event not in events:
            events.append(event)
    return tuple(events)


def _ring_timeout(value: datetime.timedelta | None) -> int | None:
    if value is None:
        return None
    # Providers take whole seconds; a fraction rounds up so a call never rings shorter.
    return math.ceil(value.total_seconds())


def place_call_from(request: pb.PlaceCallRequest) -> PlaceCall:
    return PlaceCall(
        from_number=request.from_number,
        to_number=request.to_number,
        answer=instructions_from("answer", request.answer),
        status_callback_url=request.status_callback_url,
        status_callback_events=_events(request.status_callback_events),
        ring_timeout_seconds=_ring_timeout(request.ring_timeout),
    )


def call_change_from(request: pb.UpdateCallRequest) -> CallChange:
    kind = betterproto2.which_one_of(request, "change")[0]
    if kind == "redirect":
        return Redirect(instructions_from("redirect", request.redirect))
    if kind == "transfer_to":
        return Transfer(request.transfer_to or "")
    raise InvalidArgument.for_field("change", "must give a redirect or a transfer_to")


def call_message(call: Call) -> pb.Call:
    duration = call.duration_seconds
    return pb.Call(
        call_id=call.call_id,
        provider=call.provider,
        status=_STATUSES[call.status],
        provider_status=call.provider_status,
        from_number=call.from_number,
        to_number=call.to_number,
        started_at=call.started_at,
        ended_at=call.ended_at,
        duration=datetime.timedelta(seconds=duration) if duration is not None else None,
    )
