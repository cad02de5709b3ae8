"""Exotel: placing a call and reading it, through the Voice v1 API.

See: https://developer.exotel.com/docs/voice-v1/api-reference/connect-two-numbers (a call to
`From` that runs the app flow at `Url`, shown with `CallerId`, the account's ExoPhone; status
callbacks for the `answered` and `terminal` events) and …/call-details. Exotel runs a call's
logic in its app flow, so the instructions are always the flow's URL; a voice agent is reached
by a Voicebot applet in that flow. Exotel documents no API to change or end a call.
Errors are `{"RestException": {"Status", "Message", "Code"}}`.
"""

from __future__ import annotations

from urllib.parse import quote

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import ServiceError
from integration_api.providers.call_answers import object_at, required_id, seconds_of, text_of
from integration_api.providers.call_errors import error_with_code
from integration_api.providers.exotel.account import (
    PROVIDER,
    account_url,
    auth_headers,
    exotel_account,
)
from integration_api.providers.form_calls import send_form
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import ErrorResponse
from integration_api.providers.transport import get_json
from integration_api.telephony.calls import (
    Call,
    CallChange,
    CallEvent,
    CallStatus,
    InstructionsUrl,
    PlaceCall,
    instructions_kind,
    not_supported,
)

STATUSES = {
    "queued": CallStatus.QUEUED,
    "ringing": CallStatus.RINGING,
    "in-progress": CallStatus.IN_PROGRESS,
    "completed": CallStatus.COMPLETED,
    "busy": CallStatus.BUSY,
    "no-answer": CallStatus.NO_ANSWER,
    "failed": CallStatus.FAILED,
    "canceled": CallStatus.CANCELED,
}
EVENTS = {CallEvent.ANSWERED: "answered", CallEvent.COMPLETED: "terminal"}


def call_error(response: ErrorResponse) -> ServiceError:
    exception = object_at(response.body, "RestException")
    code = exception.get("Code") if exception is not None else None
    return error_with_code(response, code, {})


def place_form(request: PlaceCall) -> list[tuple[str, str]]:
    if not isinstance(request.answer, InstructionsUrl):
        what = instructions_kind(request.answer)
        raise not_supported(PROVIDER, f"{what} (Exotel runs a call through an app flow's URL)")
    # Exotel calls `From` first and shows it `CallerId`: the callee, then our number.
    form = [
        ("From", request.to_number),
        ("CallerId", request.from_number),
        ("Url", request.answer.url),
    ]
    if request.status_callback_url:
        form.append(("StatusCallback", request.status_callback_url))
        unsupported = set(request.status_callback_events) - set(EVENTS)
        if unsupported:
            raise not_supported(PROVIDER, "status callbacks for initiated or ringing events")
        form += [
            (f"StatusCallbackEvents[{index}]", EVENTS[event])
            for index, event in enumerate(request.status_callback_events)
        ]
    if request.ring_timeout_seconds is not None:
        form.append(("TimeOut", str(request.ring_timeout_seconds)))
    return form


def call_from(body: object) -> Call:
    """The `Call` object Exotel answers with. Its times carry no zone and are left out."""
    fields = object_at(body, "Call") or {}
    raw_status = text_of(fields.get("Status"))
    return Call(
        call_id=required_id(fields, "Sid", PROVIDER),
        provider=PROVIDER,
        status=STATUSES.get(raw_status, CallStatus.UNKNOWN),
        provider_status=raw_status,
        # Exotel's `From` is the number it called; the ExoPhone shown to it is ours.
        from_number=text_of(fields.get("PhoneNumberSid")) or text_of(fields.get("To")),
        to_number=text_of(fields.get("From")),
        duration_seconds=seconds_of(fields.get("Duration")),
    )


class ExotelCalls:
    """Placing and reading calls through an Exotel account."""

    async def place(
        self, http: ProviderClient, credential: ProviderCredential, request: PlaceCall
    ) -> Call:
        response = await send_form(
            http,
            account_url(credential, "Calls/connect.json"),
            place_form(request),
            provider=PROVIDER,
            headers=auth_headers(credential),
            secrets=exotel_account(credential).secret_values(),
            classify_error=call_error,
        )
        return call_from(response.body)

    async def get(self, http: ProviderClient, credential: ProviderCredential, call_id: str) -> Call:
        response = await get_json(
            http,
            account_url(credential, f"Calls/{quote(call_id, safe='')}.json"),
            provider=PROVIDER,
            headers=auth_headers(credential),
            secrets=exotel_account(credential).secret_values(),
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
        raise not_supported(PROVIDER, "changing a call through its API")

    async def hang_up(
        self, http: ProviderClient, credential: ProviderCredential, call_id: str
    ) -> Call:
        raise not_supported(PROVIDER, "ending a call through its API")
