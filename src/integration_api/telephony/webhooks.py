"""What a webhook check takes and answers, and the port each provider's checker implements.

A checker only says whether the provider signed this request with the credential's secret, and
what identifies the signing (a signature, nonce or token id) so that a second delivery of the
same request can be recognized; remembering accepted webhooks is the validation's job
(`webhook_validation`), not the checker's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol
from urllib.parse import parse_qsl

from integration_api.credentials.model import SecretMaterial


class Rejection(StrEnum):
    """Why a webhook was not accepted; the value is the contract's lower-snake-case reason."""

    SIGNATURE_MISMATCH = "signature_mismatch"
    MISSING_HEADER = "missing_header"
    MALFORMED_SIGNATURE = "malformed_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    REPLAYED = "replayed"
    PAYLOAD_HASH_MISMATCH = "payload_hash_mismatch"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    NO_SIGNING_SECRET = "no_signing_secret"


@dataclass(frozen=True)
class Webhook:
    """An inbound request exactly as the caller received it.

    Attributes:
        method: GET or POST, upper case.
        url: the full URL the provider called (scheme, host, port, path and query).
        headers: lower-cased names to their first value (names compare case-insensitively).
        body: the raw body, byte for byte.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """The header's value, by its lower-case name, or None when it was not received."""
        return self.headers.get(name)

    def content_type(self) -> str:
        """The media type of the body without its parameters, lower case ('' when absent)."""
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class Genuine:
    """The provider signed this request with the credential's secret.

    Attributes:
        replay_id: what a second delivery of the same request repeats (the signature, the
            nonce or the token id): remembered once accepted.
        remember_seconds: how long a repetition could still pass the check, so how long the
            id must be remembered.
        signed_at: when the provider signed it, where the scheme carries a time.
    """

    replay_id: str
    remember_seconds: float
    signed_at: datetime | None = None


@dataclass(frozen=True)
class Rejected:
    """The request is not (or cannot be shown to be) the provider's; `detail` says why in
    words that never contain the secret or the expected signature."""

    rejection: Rejection
    detail: str
    signed_at: datetime | None = None


WebhookCheck = Genuine | Rejected


@dataclass(frozen=True)
class WebhookVerdict:
    """The answer: valid, or the rejection with its explanation."""

    rejection: Rejection | None
    detail: str = ""
    signed_at: datetime | None = None

    @property
    def valid(self) -> bool:
        return self.rejection is None


class WebhookChecker(Protocol):
    """One provider's signature scheme."""

    def check(self, webhook: Webhook, secret: SecretMaterial, now: float) -> WebhookCheck:
        """Whether the provider signed `webhook` with `secret`, at `now` (Unix seconds).

        Pure computation: no I/O, constant-time comparisons of anything derived from the secret.
        """
        ...


@dataclass(frozen=True)
class UnsignedWebhooks:
    """A telephony provider whose webhooks carry no signature that could be checked."""

    explanation: str


# Twilio and Plivo sign no time: a repetition passes their check whenever it comes, so what
# identifies an accepted one is remembered this long, past the providers' retries of a
# delivery that was not answered.
UNTIMED_REMEMBER_SECONDS = 600.0


# Providers post a few dozen fields; tens of thousands of tiny ones (a body within its bound)
# would hold the event loop for a tenth of a second or more while they are parsed and sorted.
MAX_FORM_FIELDS = 1000


def form_fields(body: bytes) -> dict[str, list[str]] | None:
    """An `application/x-www-form-urlencoded` body's fields in order, values kept per name;
    None when the body is not UTF-8 or holds more than `MAX_FORM_FIELDS` fields."""
    try:
        text = body.decode()
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # not UTF-8 (UnicodeDecodeError), or too many fields
        return None
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return fields


def utc_from_unix(seconds: float) -> datetime | None:
    """The UTC time of a Unix timestamp, or None when it is not one (out of range)."""
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
