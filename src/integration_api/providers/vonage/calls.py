"""Vonage: placing and controlling calls through the Voice API.

See: https://developer.vonage.com/en/api/voice (`POST /v1/calls` with `to`, `from` and either
`ncco` or `answer_url`; `GET /v1/calls/{uuid}`; `PUT /v1/calls/{uuid}` with the actions hangup
and transfer, answered 204). Every request carries a fresh RS256 token (`voice_token`).
Errors are RFC 7807 bodies whose `type` ends in the error's code
(https://developer.vonage.com/en/api-errors).
"""

from __future__ import annotations

from urllib.parse import quote

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import ServiceError
from integration_api.providers.call_answers import iso_time, required_id, seconds_of, text_of
from integration_api.providers.call_errors import (
    CALL_NOT_FOUND,
    CodeMeaning,
    error_with_code,
)
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import ErrorResponse
from integration_api.providers.transport import ProviderResponse, send_json
from integration_api.providers.vonage.account import PROVIDER, voice_url, vonage_account
from integration_api.providers.vonage.ncco import endpoint, parsed_ncco, stream_ncco, transfer_ncco
from integration_api.providers.vonage.voice_token import voice_token
from integration_api.telephony.calls import (
    Call,
    CallChange,
    CallStatus,
    Instructions,
    InstructionsUrl,
    Markup,
    PlaceCall,
    Redirect,
)

STATUSES = {
    "started": CallStatus.QUEUED,
    "ringing": CallStatus.RINGING,
    "answered": CallStatus.IN_PROGRESS,
    "machine": CallStatus.IN_PROGRESS,
    "completed": CallStatus.COMPLETED,
    "busy": CallStatus.BUSY,
    "cancelled": CallStatus.CANCELED,
    "failed": CallStatus.FAILED,
    "rejected": CallStatus.FAILED,
    "timeout": CallStatus.NO_ANSWER,
    "unanswered": CallStatus.NO_ANSWER,
}
CODES = {"not-found": CodeMeaning("not_found", CALL_NOT_FOUND)}


def call_error(response: ErrorResponse) -> ServiceError:
    """An RFC 7807 answer, mapped by the code its `type` URL ends with."""
    body = response.body
    kind = body.get("type") if isinstance(body, dict) else None
    code = kind.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if isinstance(kind, str) else None
    return error_with_code(response, code, CODES)


def call_from(body: object) -> Call:
    """A call as Vonage answers it (create: uuid and status; fetch: the whole record)."""
    fields = body if isinstance(body, dict) else {}
    raw_status = text_of(fields.get("status"))
    to, origin = fields.get("to"), fields.get("from")
    return Call(
        call_id=required_id(fields, "uuid", PROVIDER),
        provider=PROVIDER,
        status=STATUSES.get(raw_status, CallStatus.UNKNOWN),
        provider_status=raw_status,
        from_number=_number_of(origin),
        to_number=_number_of(to),
        started_at=iso_time(fields.get("start_time")),
        ended_at=iso_time(fields.get("end_time")),
        duration_seconds=seconds_of(fields.get("duration")),
    )


def _number_of(endpoint_value: object) -> str:
    if isinstance(endpoint_value, list) and endpoint_value:
        endpoint_value = endpoint_value[0]
    if not isinstance(endpoint_value, dict):
        return ""
    return text_of(endpoint_value.get("number")) or text_of(endpoint_value.get("uri"))


def _answer_fields(path: str, instructions: Instructions) -> dict[str, object]:
    if isinstance(instructions, InstructionsUrl):
        return {"answer_url": [instructions.url]}
    if isinstance(instructions, Markup):
        return {"ncco": parsed_ncco(path, instructions.text)}
    return {"ncco": stream_ncco(instructions)}


def place_body(request: PlaceCall) -> dict[str, object]:
    body: dict[str, object] = {
        "to": [endpoint(request.to_number)],
        "from": endpoint(request.from_number),
        **_answer_fields("answer.markup", request.answer),
    }
    if request.status_callback_url:
        # Vonage sends every event to event_url; it cannot be asked for some only.
        body["event_url"] = [request.status_callback_url]
        body["event_method"] = "POST"
    if request.ring_timeout_seconds is not None:
        body["ringing_timer"] = request.ring_timeout_seconds
    return body


def _destination(change: CallChange) -> dict[str, object]:
    if isinstance(change, Redirect):
        fields = _answer_fields("redirect.markup", change.instructions)
        if "answer_url" in fields:
            return {"type": "ncco", "url": fields["answer_url"]}
        return {"type": "ncco", "ncco": fields["ncco"]}
    return {"type": "ncco", "ncco": transfer_ncco(change.to)}


class VonageCalls:
    """Call control through a Vonage application (its id and private key)."""

    async def place(
        self, http: ProviderClient, credential: ProviderCredential, request: PlaceCall
    ) -> Call:
        body = place_body(request)
        response = await _send(http, credential, "POST", voice_url(credential, "calls"), body)
        return call_from(response.body)

    async def get(self, http: ProviderClient, credential: ProviderCredential, call_id: str) -> Call:
        response = await _send(http, credential, "GET", _call_url(credential, call_id))
        return call_from(response.body)

    async def update(
        self,
        http: ProviderClient,
        credential: ProviderCredential,
        call_id: str,
        change: CallChange,
    ) -> Call:
        body = {"action": "transfer", "destination": _destination(change)}
        await _send(http, credential, "PUT", _call_url(credential, call_id), body)
        # 204 without a body: the call goes on, now doing what it was told.
        return Call(call_id=call_id, provider=PROVIDER, status=CallStatus.IN_PROGRESS)

    async def hang_up(
        self, http: ProviderClient, credential: ProviderCredential, call_id: str
    ) -> Call:
        body = {"action": "hangup"}
        await _send(http, credential, "PUT", _call_url(credential, call_id), body)
        return Call(call_id=call_id, provider=PROVIDER, status=CallStatus.COMPLETED)


def _call_url(credential: ProviderCredential, call_id: str) -> str:
    return voice_url(credential, f"calls/{quote(call_id, safe='')}")


async def _send(
    http: ProviderClient,
    credential: ProviderCredential,
    method: str,
    url: str,
    body: object = None,
) -> ProviderResponse:
    token = voice_token(credential)
    return await send_json(
        http,
        method,
        url,
        provider=PROVIDER,
        headers={"Authorization": f"Bearer {token}"},
        json_body=body,
        secrets=(*vonage_account(credential).secret_values(), token),
        classify_error=call_error,
    )
