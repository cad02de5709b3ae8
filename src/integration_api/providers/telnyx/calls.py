"""Telnyx: placing and controlling calls with Call Control.

See: https://developers.telnyx.com/api/call-control (`POST /v2/calls` through the Call Control
application the credential names, with `stream_url` to stream the call to a voice agent;
`GET /v2/calls/{call_control_id}`; `POST /v2/calls/{id}/actions/{streaming_start|transfer|
hangup}` answered `{"data":{"result":"ok"}}`). Call Control takes commands, not documents: a
call is driven through the events posted to its webhook URL, so instructions by URL or markup
have no Telnyx form. Errors are `{"errors":[{"code": …}]}`; 90018 is a call that has ended.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from urllib.parse import quote

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import FailedPrecondition, ServiceError
from integration_api.providers.call_answers import iso_time, object_at, required_id, seconds_of
from integration_api.providers.call_errors import (
    CALL_ENDED,
    CALL_NOT_FOUND,
    INVALID_NUMBER,
    CodeMeaning,
    error_with_code,
)
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import ErrorResponse
from integration_api.providers.telnyx.account import (
    CONNECTION_ID_SETTING,
    PROVIDER,
    api_url,
    auth_headers,
    connection_id,
    telnyx_account,
)
from integration_api.providers.transport import ProviderResponse, send_json
from integration_api.telephony.calls import (
    Call,
    CallChange,
    CallStatus,
    MediaStream,
    PlaceCall,
    Redirect,
    instructions_kind,
    not_supported,
)

CONNECTION_ID_MISSING = "CONNECTION_ID_MISSING"
_IN = "invalid_argument"
CODES = {
    "10002": CodeMeaning(_IN, INVALID_NUMBER),  # invalid phone number
    "10016": CodeMeaning(_IN, INVALID_NUMBER),  # not +E.164
    "10005": CodeMeaning("not_found", CALL_NOT_FOUND),
    "90018": CodeMeaning("failed_precondition", CALL_ENDED),  # call has already ended
}


def call_error(response: ErrorResponse) -> ServiceError:
    body = response.body
    errors = body.get("errors") if isinstance(body, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    code = first.get("code") if isinstance(first, dict) else None
    return error_with_code(response, code, CODES)


def client_state(parameters: Mapping[str, str]) -> str:
    """The stream's parameters as Telnyx client state: base64 of their JSON object."""
    document = json.dumps(dict(parameters), separators=(",", ":"), sort_keys=True)
    return base64.b64encode(document.encode()).decode("ascii")


def stream_fields(stream: MediaStream) -> dict[str, object]:
    """The caller's audio to the agent, the agent's audio back into the call (RTP)."""
    fields: dict[str, object] = {
        "stream_url": stream.url,
        "stream_track": "inbound_track",
        "stream_bidirectional_mode": "rtp",
    }
    if stream.parameters:
        fields["client_state"] = client_state(stream.parameters)
    return fields


def place_body(credential: ProviderCredential, request: PlaceCall) -> dict[str, object]:
    if not isinstance(request.answer, MediaStream):
        what = instructions_kind(request.answer)
        raise not_supported(PROVIDER, f"{what} (Call Control is driven by webhook commands)")
    application = connection_id(credential)
    if not application:
        raise FailedPrecondition(
            f'telnyx calls need config.extra["{CONNECTION_ID_SETTING}"]: the Call Control '
            "application that places them",
            reason=CONNECTION_ID_MISSING,
            provider=PROVIDER,
        )
    body: dict[str, object] = {
        "connection_id": application,
        "to": request.to_number,
        "from": request.from_number,
        **stream_fields(request.answer),
    }
    if request.status_callback_url:
        # Telnyx posts every event to webhook_url; it cannot be asked for some only.
        body["webhook_url"] = request.status_callback_url
        body["webhook_url_method"] = "POST"
    if request.ring_timeout_seconds is not None:
        body["timeout_secs"] = request.ring_timeout_seconds
    return body


def call_from(body: object) -> Call:
    """`data` of a dial or status answer. Telnyx reports whether the call is alive, not a
    status word: alive is in progress, ended (an end time) completed, otherwise still dialing."""
    fields = object_at(body, "data") or {}
    alive = fields.get("is_alive") is True
    ended = iso_time(fields.get("end_time"))
    if alive:
        status = CallStatus.IN_PROGRESS
    elif ended is not None:
        status = CallStatus.COMPLETED
    else:
        status = CallStatus.QUEUED
    return Call(
        call_id=required_id(fields, "call_control_id", PROVIDER),
        provider=PROVIDER,
        status=status,
        started_at=iso_time(fields.get("start_time")),
        ended_at=ended,
        duration_seconds=seconds_of(fields.get("call_duration")),
    )


def _action_body(change: CallChange) -> tuple[str, dict[str, object]]:
    if isinstance(change, Redirect):
        instructions = change.instructions
        if not isinstance(instructions, MediaStream):
            what = instructions_kind(instructions)
            raise not_supported(PROVIDER, f"a redirect to {what} (only to a media stream)")
        body = stream_fields(instructions)
        body.pop("client_state", None)
        body["custom_parameters"] = [
            {"name": name, "value": value} for name, value in instructions.parameters.items()
        ]
        return "streaming_start", body
    return "transfer", {"to": change.to}


class TelnyxCalls:
    """Call control through a Telnyx API key and Call Control application."""

    async def place(
        self, http: ProviderClient, credential: ProviderCredential, request: PlaceCall
    ) -> Call:
        body = place_body(credential, request)
        response = await _send(http, credential, "POST", api_url(credential, "calls"), body)
        return call_from(response.body)

    async def get(self, http: ProviderClient, credential: ProviderCredential, call_id: str) -> Call:
        url = api_url(credential, f"calls/{quote(call_id, safe='')}")
        return call_from((await _send(http, credential, "GET", url)).body)

    async def update(
        self,
        http: ProviderClient,
        credential: ProviderCredential,
        call_id: str,
        change: CallChange,
    ) -> Call:
        action, body = _action_body(change)
        await _send(http, credential, "POST", _action_url(credential, call_id, action), body)
        return Call(call_id=call_id, provider=PROVIDER, status=CallStatus.IN_PROGRESS)

    async def hang_up(
        self, http: ProviderClient, credential: ProviderCredential, call_id: str
    ) -> Call:
        await _send(http, credential, "POST", _action_url(credential, call_id, "hangup"), {})
        return Call(call_id=call_id, provider=PROVIDER, status=CallStatus.COMPLETED)


def _action_url(credential: ProviderCredential, call_id: str, action: str) -> str:
    return api_url(credential, f"calls/{quote(call_id, safe='')}/actions/{action}")


async def _send(
    http: ProviderClient,
    credential: ProviderCredential,
    method: str,
    url: str,
    body: object = None,
) -> ProviderResponse:
    return await send_json(
        http,
        method,
        url,
        provider=PROVIDER,
        headers=auth_headers(credential),
        json_body=body,
        secrets=telnyx_account(credential).secret_values(),
        classify_error=call_error,
    )
