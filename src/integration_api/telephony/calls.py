"""The normalized call-control contract: what a call is asked to do and what it is.

One status for every provider (`CallStatus`), with the provider's own word kept beside it;
instructions in three forms (a URL the provider fetches, the provider's own markup passed
through, or a media stream to a voice agent that each provider module renders into its own
form). The converters are the only code knowing both these types and the generated messages.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from integration_api.errors import FailedPrecondition
from integration_api.llm.pipeline import CAPABILITY_NOT_SUPPORTED

__all__ = ["CAPABILITY_NOT_SUPPORTED"]

# The call has ended, or is not in a state the action applies to.
CALL_ENDED = "CALL_ENDED"


class CallStatus(enum.Enum):
    """Where a call is; UNKNOWN when the provider said nothing this service can read."""

    UNKNOWN = "unknown"
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        return self in _FINISHED


_FINISHED = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.BUSY,
        CallStatus.NO_ANSWER,
        CallStatus.FAILED,
        CallStatus.CANCELED,
    }
)


class CallEvent(enum.Enum):
    """Call progress a status callback may be asked for."""

    INITIATED = "initiated"
    RINGING = "ringing"
    ANSWERED = "answered"
    COMPLETED = "completed"


@dataclass(frozen=True)
class InstructionsUrl:
    """A URL the provider fetches for what to do (never fetched by this service)."""

    url: str


@dataclass(frozen=True)
class Markup:
    """The provider's own instructions passed through: TwiML, an NCCO, Plivo XML."""

    text: str


@dataclass(frozen=True)
class MediaStream:
    """Stream the call's audio, both ways, to a voice agent's websocket."""

    url: str
    parameters: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


Instructions = InstructionsUrl | Markup | MediaStream


@dataclass(frozen=True)
class PlaceCall:
    from_number: str
    to_number: str
    answer: Instructions
    status_callback_url: str = ""
    # Empty: the provider's default events.
    status_callback_events: tuple[CallEvent, ...] = ()
    ring_timeout_seconds: int | None = None


@dataclass(frozen=True)
class Redirect:
    """Continue a live call with new instructions."""

    instructions: Instructions


@dataclass(frozen=True)
class Transfer:
    """Connect a live call to another number or SIP URI."""

    to: str


CallChange = Redirect | Transfer


@dataclass(frozen=True)
class Call:
    call_id: str
    provider: str
    status: CallStatus
    # Exactly as the provider reported it ('' when it reported none).
    provider_status: str = ""
    from_number: str = ""
    to_number: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: float | None = None


def instructions_kind(instructions: Instructions) -> str:
    """How the instructions are given, in the words an error message uses."""
    if isinstance(instructions, InstructionsUrl):
        return "an instructions URL"
    if isinstance(instructions, Markup):
        return "markup"
    return "a media stream"


def call_ended(call: Call) -> FailedPrecondition:
    """An action asked of a call that has already ended."""
    said = call.provider_status or call.status.value
    return FailedPrecondition(
        f"the {call.provider} call has ended ({said})", reason=CALL_ENDED, provider=call.provider
    )


def not_supported(provider: str, what: str) -> FailedPrecondition:
    """`provider` offers no way to do `what` (FAILED_PRECONDITION, CAPABILITY_NOT_SUPPORTED)."""
    return FailedPrecondition(
        f"{provider} does not support {what}",
        reason=CAPABILITY_NOT_SUPPORTED,
        provider=provider,
    )
