"""Plivo: placing and controlling calls through the Call resource and the Audio Stream API.

See: https://www.plivo.com/docs/voice/api/call (create with `answer_url`, which Plivo always
fetches for a call's first instructions; live and queued calls read with `?status=live` /
`?status=queued`, finished ones from the call record; transfer of the A leg to a new URL;
`DELETE Call/{uuid}/` hangs up, `DELETE Request/{request_uuid}/` cancels a call not yet
answered) and https://www.plivo.com/docs/voice/api/stream (a bidirectional stream started on a
live call). Plivo answers errors with a status and an `error` text only; 403 on a call means the
account may not call there (geographic permissions, verification), not a refused key.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import FailedPrecondition, InvalidArgument, NotFound, ServiceError
from integration_api.providers.call_answers import iso_time, required_id, seconds_of, text_of
from integration_api.providers.call_errors import CALL_NOT_PERMITTED, error_with_code
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import ErrorResponse, describe
from integration_api.providers.plivo.account import (
    PROVIDER,
    account_url,
    auth_headers,
    plivo_account,
)
from integration_api.providers.transport import ProviderResponse, send_json
from integration_api.telephony.calls import (
    Call,
    CallChange,
    CallEvent,
    CallStatus,
    InstructionsUrl,
    MediaStream,
    PlaceCall,
    Redirect,
    not_supported,
)

STATUSES = {
    "queued": CallStatus.QUEUED,
    "ringing": CallStatus.RINGING,
    "early media": CallStatus.RINGING,
    "in-progress": CallStatus.IN_PROGRESS,
    "completed": CallStatus.COMPLETED,
    "busy": CallStatus.BUSY,
    "no-answer": CallStatus.NO_ANSWER,
    "failed": CallStatus.FAILED,
    "cancel": CallStatus.CANCELED,
    "canceled": CallStatus.CANCELED,
}
STREAM_CONTENT_TYPE = "audio/x-l16;rate=16000"
INLINE_INSTRUCTIONS = (
    "markup or a media stream when placing a call (Plivo fetches a call's first instructions "
    "from an answer URL: answer it with Plivo XML, <Stream> for a voice agent)"
)


def call_error(response: ErrorResponse) -> ServiceError:
    if response.status_code == 403:
        return FailedPrecondition(
            describe(response, "refused the call"),
            reason=CALL_NOT_PERMITTED,
            provider=PROVIDER,
        )
    return error_with_code(response, None, {})


def place_body(request: PlaceCall) -> dict[str, object]:
    if not isinstance(request.answer, InstructionsUrl):
        raise not_supported(PROVIDER, INLINE_INSTRUCTIONS)
    body: dict[str, object] = {
        "from": request.from_number,
        "to": request.to_number,
        "answer_url": request.answer.url,
        "answer_method": "POST",
    }
    if request.status_callback_url:
        # Plivo reports ringing to ring_url and the end to hangup_url; its default is the end.
        events = set(request.status_callback_events) or {CallEvent.COMPLETED}
        if CallEvent.RINGING in events:
            body["ring_url"] = request.status_callback_url
        if CallEvent.COMPLETED in events:
            body["hangup_url"] = request.status_callback_url
        if events & {CallEvent.INITIATED, CallEvent.ANSWERED}:
            raise not_supported(PROVIDER, "status callbacks for initiated or answered events")
    if request.ring_timeout_seconds is not None:
        body["ring_timeout"] = request.ring_timeout_seconds
    return body


def stream_body(stream: MediaStream) -> dict[str, object]:
    body: dict[str, object] = {
        "service_url": stream.url,
        "bidirectional": True,
        "audio_track": "inbound",
        "content_type": STREAM_CONTENT_TYPE,
    }
    if stream.parameters:
        body["extra_headers"] = _extra_headers(stream.parameters)
    return body


def _extra_headers(parameters: Mapping[str, str]) -> str:
    """Plivo's `key=value,key=value` list: a name or value holding `,` or `=` cannot travel."""
    pairs = list(parameters.items())
    for name, value in pairs:
        if any(mark in name + value for mark in ",="):
            raise InvalidArgument.for_field(
                "redirect.media_stream.parameters",
                "plivo passes parameters as key=value pairs: names and values cannot hold , or =",
            )
    return ",".join(f"{name}={value}" for name, value in pairs)


def live_call_from(body: object, call_id: str) -> Call:
    """A live or queued call (`call_status`, `from`, `to`)."""
    fields = body if isinstance(body, dict) else {}
    raw_status = text_of(fields.get("call_status"))
    return Call(
        call_id=call_id,
        provider=PROVIDER,
        status=STATUSES.get(raw_status, CallStatus.UNKNOWN),
        provider_status=raw_status,
        from_number=text_of(fields.get("from")),
        to_number=text_of(fields.get("to")),
    )


def record_call_from(body: object, call_id: str) -> Call:
    """A finished call's record. It names no outcome beyond its times: answered calls are
    completed; one never answered is reported unanswered (busy and failed calls read alike)."""
    fields = body if isinstance(body, dict) else {}
    answered = iso_time(fields.get("answer_time"))
    return Call(
        call_id=call_id,
        provider=PROVIDER,
        status=CallStatus.COMPLETED if answered is not None else CallStatus.NO_ANSWER,
        provider_status=text_of(fields.get("call_state")),
        from_number=text_of(fields.get("from_number")),
        to_number=text_of(fields.get("to_number")),
        started_at=iso_time(fields.get("initiation_time")),
        ended_at=iso_time(fields.get("end_time")),
        duration_seconds=seconds_of(fields.get("call_duration")),
    )


class PlivoCalls:
    """Call control through a Plivo account (auth id and token)."""

    async def place(
        self, http: ProviderClient, credential: ProviderCredential, request: PlaceCall
    ) -> Call:
        body = place_body(request)
        response = await _send(http, credential, "POST", account_url(credential, "Call/"), body)
        fields = response.body if isinstance(response.body, dict) else {}
        request_uuid = fields.get("request_uuid")
        if isinstance(request_uuid, list) and request_uuid:
            fields = {"request_uuid": request_uuid[0]}
        call_id = required_id(fields, "request_uuid", PROVIDER)
        return Call(
            call_id=call_id,
            provider=PROVIDER,
            status=CallStatus.QUEUED,
            from_number=request.from_number,
            to_number=request.to_number,
        )

    async def get(self, http: ProviderClient, credential: ProviderCredential, call_id: str) -> Call:
        url = _call_url(credential, call_id)
        # A call is live, queued, or finished with a record; each is asked for in turn.
        for state in ("live", "queued"):
            try:
                response = await _send(http, credential, "GET", url, params={"status": state})
            except NotFound:
                continue
            return live_call_from(response.body, call_id)
        response = await _send(http, credential, "GET", url)
        return record_call_from(response.body, call_id)

    async def update(
        self,
        http: ProviderClient,
        credential: ProviderCredential,
        call_id: str,
        change: CallChange,
    ) -> Call:
        if not isinstance(change, Redirect):
            raise not_supported(PROVIDER, "transfers to a number (redirect to a URL instead)")
        instructions = change.instructions
        if isinstance(instructions, MediaStream):
            url = account_url(credential, f"Call/{quote(call_id, safe='')}/Stream/")
            await _send(http, credential, "POST", url, stream_body(instructions))
        elif isinstance(instructions, InstructionsUrl):
            body = {"legs": "aleg", "aleg_url": instructions.url, "aleg_method": "POST"}
            await _send(http, credential, "POST", _call_url(credential, call_id), body)
        else:
            raise not_supported(PROVIDER, "markup in a redirect (give a URL serving Plivo XML)")
        return Call(call_id=call_id, provider=PROVIDER, status=CallStatus.IN_PROGRESS)

    async def hang_up(
        self, http: ProviderClient, credential: ProviderCredential, call_id: str
    ) -> Call:
        try:
            await _send(http, credential, "DELETE", _call_url(credential, call_id))
        except NotFound:
            # Not a call in progress: a request not yet answered is canceled instead.
            url = account_url(credential, f"Request/{quote(call_id, safe='')}/")
            await _send(http, credential, "DELETE", url)
            return Call(call_id=call_id, provider=PROVIDER, status=CallStatus.CANCELED)
        return Call(call_id=call_id, provider=PROVIDER, status=CallStatus.COMPLETED)


def _call_url(credential: ProviderCredential, call_id: str) -> str:
    return account_url(credential, f"Call/{quote(call_id, safe='')}/")


async def _send(
    http: ProviderClient,
    credential: ProviderCredential,
    method: str,
    url: str,
    body: object = None,
    params: dict[str, str] | None = None,
) -> ProviderResponse:
    return await send_json(
        http,
        method,
        url,
        provider=PROVIDER,
        headers=auth_headers(credential),
        params=params,
        json_body=body,
        secrets=plivo_account(credential).secret_values(),
        classify_error=call_error,
    )
