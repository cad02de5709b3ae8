"""Fake account reads of the telephony providers, answering as the real ones do.

Each guards the unbilled read our verification makes (Twilio's account fetch, Vonage's and
Telnyx's and Exotel's balance, Plivo's account details) with the provider's own scheme, and
refuses with its real status and error body (shapes from the providers' docs and SDK sources).
With `server.echo_credentials` on, refusals quote the
presented secret in full, to prove nothing a provider says can carry it into our messages.
"""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from tests.fakes.provider_apis import KeyCheckedEndpoint, KeyReader, bearer_key, quoting
from tests.fakes.server import json_response

TWILIO_ACCOUNT_SID = "ACae6d8e2b5c8f4a1e9d3b7c6f5e4d3c2b"
TWILIO_API_KEY_SID = "SK0f1e2d3c4b5a69788796a5b4c3d2e1f0"
VONAGE_API_KEY = "a1b2c3d4"
PLIVO_AUTH_ID = "MAODU4MTK3MDQ3NZE0OT"
EXOTEL_API_KEY = "f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f7a8b"
EXOTEL_ACCOUNT_SID = "acme-voice1"


def basic_password(user: str) -> KeyReader:
    """The Basic password presented for `user` ('' for another user or no Basic header)."""

    def read(request: web.Request) -> str:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Basic":
            return ""
        try:
            presented_user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return password if presented_user == user else ""

    return read


def _answer(status: int, body: object) -> web.Response:
    return json_response(status, body)


TWILIO_ACCOUNT = {
    "auth_token": "redacted",
    "date_created": "Thu, 30 Jul 2015 20:00:00 +0000",
    "date_updated": "Thu, 30 Jul 2015 20:00:00 +0000",
    "friendly_name": "voice agents",
    "owner_account_sid": TWILIO_ACCOUNT_SID,
    "sid": TWILIO_ACCOUNT_SID,
    "status": "active",
    "subresource_uris": {"calls": f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Calls.json"},
    "type": "Full",
    "uri": f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}.json",
}


def twilio_refusal(shown: str) -> web.Response:
    body = {
        "code": 20003,
        "message": quoting("Authenticate", shown),
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    return _answer(401, body)


def twilio_account_endpoint(user: str = TWILIO_ACCOUNT_SID) -> KeyCheckedEndpoint:
    """The account fetch, accepting Basic `user` (the account SID or an API key SID)."""
    return KeyCheckedEndpoint(
        "GET",
        f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}.json",
        basic_password(user),
        lambda request: _answer(200, TWILIO_ACCOUNT),
        twilio_refusal,
    )


TWILIO = twilio_account_endpoint()


def basic_pair(request: web.Request) -> str:
    """The presented Basic `user:password`, whatever the user ('' without a Basic header)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Basic":
        return ""
    try:
        return base64.b64decode(encoded).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


# The account fetch accepting `user:password` pairs: an API key and the auth token together.
TWILIO_ANY_USER = KeyCheckedEndpoint(
    "GET",
    f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}.json",
    basic_pair,
    lambda request: _answer(200, TWILIO_ACCOUNT),
    twilio_refusal,
)

VONAGE = KeyCheckedEndpoint(
    "GET",
    "/account/get-balance",
    basic_password(VONAGE_API_KEY),
    lambda request: _answer(200, {"value": 10.28, "autoReload": False}),
    lambda shown: _answer(
        401,
        {"error-code": "401", "error-code-label": quoting("authentication failed", shown)},
    ),
)

PLIVO = KeyCheckedEndpoint(
    "GET",
    f"/v1/Account/{PLIVO_AUTH_ID}/",
    basic_password(PLIVO_AUTH_ID),
    lambda request: _answer(
        200,
        {
            "account_type": "standard",
            "address": "",
            "api_id": "e0ddb6d4-2b2d-11e7-8a59-02ed609bd62b",
            "auth_id": PLIVO_AUTH_ID,
            "auto_recharge": False,
            "cash_credits": "9.50000",
            "city": "",
            "name": "voice agents",
            "resource_uri": f"/v1/Account/{PLIVO_AUTH_ID}/",
            "state": "",
            "timezone": "Asia/Kolkata",
        },
    ),
    lambda shown: _answer(
        401,
        {
            "api_id": "a4c5a8bc-2b2d-11e7-8a59-02ed609bd62b",
            "error": quoting("authentication failed", shown),
        },
    ),
)

TELNYX = KeyCheckedEndpoint(
    "GET",
    "/v2/balance",
    bearer_key,
    lambda request: _answer(
        200,
        {
            "data": {
                "available_credit": "400.00",
                "balance": "300.00",
                "credit_limit": "100.00",
                "currency": "USD",
                "pending": "10.00",
                "record_type": "balance",
            }
        },
    ),
    lambda shown: _answer(
        401,
        {
            "errors": [
                {
                    "code": "10009",
                    "title": "Authentication failed",
                    "detail": quoting(
                        "The API key looks malformed. Check that you copied it correctly.", shown
                    ),
                    "meta": {"url": "https://developers.telnyx.com/docs/overview/errors/10009"},
                }
            ]
        },
    ),
)

EXOTEL = KeyCheckedEndpoint(
    "GET",
    f"/v1/Accounts/{EXOTEL_ACCOUNT_SID}/Balance.json",
    basic_password(EXOTEL_API_KEY),
    lambda request: _answer(
        200,
        {
            "Account": {
                "AccountSid": EXOTEL_ACCOUNT_SID,
                "BalanceData": {
                    "Balance": "1520.50",
                    "Currency": "INR",
                    "PricingPlan": "Standard",
                    "DateUpdated": "2026-11-30 10:12:45",
                },
            }
        },
    ),
    lambda shown: _answer(
        401,
        {
            "RestException": {
                "Status": 401,
                "Message": quoting("Authentication failed. Invalid API Key or Token.", shown),
            }
        },
    ),
)
