"""Twilio: placing and controlling calls through the Calls resource.

See: https://www.twilio.com/docs/voice/api/call-resource. Create is a form POST to
`Calls.json` with To, From and one of Url / Twiml; update posts Url / Twiml to redirect a live
call, or Status=completed to end it (Twilio cancels a call still queued or ringing and hangs
up one in progress). Twilio errors carry `code` (https://www.twilio.com/docs/api/errors).
"""

from __future__ import annotations

from urllib.parse import quote

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import ServiceError
from integration_api.providers.call_answers import required_id, rfc2822_time, seconds_of, text_of
from integration_api.providers.call_errors import (
    CALL_ENDED,
    CALL_NOT_FOUND,
    CALL_NOT_PERMITTED,
    CALLER_ID_NOT_VERIFIED,
    INVALID_NUMBER,
    NUMBER_UNREACHABLE,
    CodeMeaning,
    error_with_code,
)
from integration_api.providers.form_calls import send_form
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import ErrorResponse
from integration_api.providers.transport import ProviderResponse, get_json
from integration_api.providers.twilio.account import (
    PROVIDER,
    account_url,
    auth_headers,
    twilio_account,
)
from integration_api.providers.twilio.twiml import stream_twiml, transfer_twiml
from integration_api.telephony.calls import (
    Call,
    CallChange,
    CallEvent,
    CallStatus,
    Instructions,
    InstructionsUrl,
    Markup,
    PlaceCall,
    Redirect,
)

STATUSES = {
    "queued": CallStatus.QUEUED,
    "initiated": CallStatus.QUEUED,
    "ringing": CallStatus.RINGING,
    "in-progress": CallStatus.IN_PROGRESS,
    "completed": CallStatus.COMPLETED,
    "busy": CallStatus.BUSY,
    "no-answer": CallStatus.NO_ANSWER,
    "failed": CallStatus.FAILED,
    "canceled": CallStatus.CANCELED,
}
EVENTS = {
    CallEvent.INITIATED: "initiated",
    CallEvent.RINGING: "ringing",
    CallEvent.ANSWERED: "answered",
    CallEvent.COMPLETED: "completed",
}
_IN = "invalid_argument"
_PRE = "failed_precondition"
CODES = {
    "21211": CodeMeaning(_IN, INVALID_NUMBER),  # invalid To
    "21212": CodeMeaning(_IN, INVALID_NUMBER),  # invalid From
    "21214": CodeMeaning(_IN, NUMBER_UNREACHABLE),  # To cannot be reached
    "21210": CodeMeaning(_PRE, CALLER_ID_NOT_VERIFIED),  # From is not a verified caller id
    "21215": CodeMeaning(_PRE, CALL_NOT_PERMITTED),  # geographic permissions
    "21216": CodeMeaning(_PRE, CALL_NOT_PERMITTED),  # blocked
    "21220": CodeMeaning(_PRE, CALL_ENDED),  # invalid call state (not in progress)
    "20404": CodeMeaning("not_found", CALL_NOT_FOUND),
}


def call_error(response: ErrorResponse) -> ServiceError:
    """Twilio's `{"code", "message", "more_info", "status"}` error, mapped by its code."""
    body = response.body
    code = body.get("code") if isinstance(body, dict) else None
    return error_with_code(response, code, CODES)


def call_from(body: object) -> Call:
    """The Call resource Twilio answers with (create, fetch and update alike)."""
    fields = body if isinstance(body, dict) else {}
    raw_status = text_of(fields.get("status"))
    return Call(
        call_id=required_id(fields, "sid", PROVIDER),
        provider=PROVIDER,
        status=STATUSES.get(raw_status, CallStatus.UNKNOWN),
        provider_status=raw_status,
        from_number=text_of(fields.get("from")),
        to_number=text_of(fields.get("to")),
        started_at=rfc2822_time(fields.get("start_time")),
        ended_at=rfc2822_time(fields.get("end_time")),
        duration_seconds=seconds_of(fields.get("duration")),
    )


def _instructions_form(instructions: Instructions) -> list[tuple[str, str]]:
    if isinstance(instructions, InstructionsUrl):
        return [("Url", instructions.url)]
    if isinstance(instructions, Markup):
        return [("Twiml", instructions.text)]
    return [("Twiml", stream_twiml(instructions))]


def place_form(request: PlaceCall) -> list[tuple[str, str]]:
    form = [("To", request.to_number), ("From", request.from_number)]
    form += _instructions_form(request.answer)
    if request.status_callback_url:
        form += [("StatusCallback", request.status_callback_url), ("StatusCallbackMethod", "POST")]
        form += [("StatusCallbackEvent", EVENTS[event]) for event in request.status_callback_events]
    if request.ring_timeout_seconds is not None:
        form.append(("Timeout", str(request.ring_timeout_seconds)))
    return form


def _call_url(credential: ProviderCredential, call_id: str) -> str:
    return account_url(credential, f"Calls/{quote(call_id, safe='')}.json")


class TwilioCalls:
    """Call control through a Twilio account (auth token or API key)."""

    async def place(
        self, http: ProviderClient, credential: ProviderCredential, request: PlaceCall
    ) -> Call:
        url = account_url(credential, "Calls.json")
        return call_from((await _post(http, credential, url, place_form(request))).body)

    async def get(self, http: ProviderClient, credential: ProviderCredential, call_id: str) -> Call:
        response = await get_json(
            http,
            _call_url(credential, call_id),
            provider=PROVIDER,
            headers=auth_headers(credential),
            secrets=twilio_account(credential).secret_values(),
            classify_error=call_error,
        )
        return call_from(response.body)

    async def update(
        self,
        http: ProviderClient,
        credential: ProviderCredential,
        call_id: str,
        change: CallChange,
    ) -> Call:
        if isinstance(change, Redirect):
            form = _instructions_form(change.instructions)
        else:
            form = [("Twiml", transfer_twiml(change.to))]
        response = await _post(http, credential, _call_url(credential, call_id), form)
        return call_from(response.body)

    async def hang_up(
        self, http: ProviderClient, credential: ProviderCredential, call_id: str
    ) -> Call:
        form = [("Status", "completed")]
        response = await _post(http, credential, _call_url(credential, call_id), form)
        return call_from(response.body)


async def _post(
    http: ProviderClient,
    credential: ProviderCredential,
    url: str,
    form: list[tuple[str, str]],
) -> ProviderResponse:
    return await send_form(
        http,
        url,
        form,
        provider=PROVIDER,
        headers=auth_headers(credential),
        secrets=twilio_account(credential).secret_values(),
        classify_error=call_error,
    )
