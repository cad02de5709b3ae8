"""Call Control Objects (NCCOs) this service writes, and the endpoints they name.

See: https://developer.vonage.com/en/voice/voice-api/ncco-reference (`connect` to a
`websocket` endpoint streams the call's audio both ways; its `headers` reach the agent in the
first message) and https://developer.vonage.com/en/voice/voice-api/concepts/websockets
(16-bit linear PCM at 16 kHz). Vonage writes phone numbers in E.164 without the `+`.
"""

from __future__ import annotations

import json

from integration_api.errors import InvalidArgument
from integration_api.telephony.calls import MediaStream

STREAM_CONTENT_TYPE = "audio/l16;rate=16000"


def endpoint(number: str) -> dict[str, str]:
    """A `phone` endpoint, or a `sip` one for a `sip:` URI."""
    if number.lower().startswith("sip:"):
        return {"type": "sip", "uri": number}
    return {"type": "phone", "number": number.removeprefix("+")}


def stream_ncco(stream: MediaStream) -> list[dict[str, object]]:
    websocket: dict[str, object] = {
        "type": "websocket",
        "uri": stream.url,
        "content-type": STREAM_CONTENT_TYPE,
    }
    if stream.parameters:
        websocket["headers"] = dict(stream.parameters)
    return [{"action": "connect", "endpoint": [websocket]}]


def transfer_ncco(to: str) -> list[dict[str, object]]:
    return [{"action": "connect", "endpoint": [endpoint(to)]}]


def parsed_ncco(path: str, markup: str) -> list[object]:
    """Markup given for Vonage: it must be an NCCO, a JSON array of actions."""
    try:
        ncco = json.loads(markup)
    except ValueError:
        ncco = None
    if not isinstance(ncco, list) or not ncco:
        raise InvalidArgument.for_field(path, "must be an NCCO: a JSON array of actions")
    return ncco
