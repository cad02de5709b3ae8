"""Provider id -> its call-control adapter; one line per telephony provider."""

from __future__ import annotations

import httpx

from integration_api.providers.exotel.calls import ExotelCalls
from integration_api.providers.plivo.calls import PlivoCalls
from integration_api.providers.telnyx.calls import TelnyxCalls
from integration_api.providers.twilio.calls import TwilioCalls
from integration_api.providers.vonage.calls import VonageCalls
from integration_api.telephony.call_ports import CallControl

CALL_CONTROL: dict[str, CallControl[httpx.AsyncClient]] = {
    "twilio": TwilioCalls(),
    "vonage": VonageCalls(),
    "plivo": PlivoCalls(),
    "telnyx": TelnyxCalls(),
    "exotel": ExotelCalls(),
}


def call_control_for(provider: str) -> CallControl[httpx.AsyncClient] | None:
    return CALL_CONTROL.get(provider)
