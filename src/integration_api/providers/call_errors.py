"""Telephony providers' error answers to call-control requests, mapped by status and code.

Each provider module lists what its own codes mean (`CodeMeaning`); a code it does not list,
or an answer without one, is mapped by its HTTP status like any provider's (`http_errors`). The
provider's code is kept in the ErrorInfo metadata as `provider_code`, so a caller can tell a
number Twilio calls invalid (21211) from one it cannot reach (21214) without reading wording.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from integration_api.errors import FailedPrecondition, InvalidArgument, NotFound, ServiceError
from integration_api.providers.http_errors import ErrorResponse, describe, error_from_response
from integration_api.telephony.calls import CALL_ENDED

__all__ = ["CALL_ENDED", "CodeMeaning", "error_with_code"]

PROVIDER_CODE = "provider_code"

INVALID_NUMBER = "INVALID_NUMBER"
NUMBER_UNREACHABLE = "NUMBER_UNREACHABLE"
CALLER_ID_NOT_VERIFIED = "CALLER_ID_NOT_VERIFIED"
# The account may not call there (geographic permissions, a block list, a verification).
CALL_NOT_PERMITTED = "CALL_NOT_PERMITTED"
CALL_NOT_FOUND = "CALL_NOT_FOUND"

_ERROR_KINDS: dict[str, type[ServiceError]] = {
    "invalid_argument": InvalidArgument,
    "failed_precondition": FailedPrecondition,
    "not_found": NotFound,
}
# What a provider's code may look like before it is repeated: a code, not a sentence.
_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True)
class CodeMeaning:
    """`kind` is invalid_argument, failed_precondition or not_found."""

    kind: str
    reason: str


def error_with_code(
    response: ErrorResponse, code: object, meanings: Mapping[str, CodeMeaning]
) -> ServiceError:
    """The typed error for a call-control error answer carrying the provider's `code`."""
    text = str(code) if isinstance(code, (str, int)) and not isinstance(code, bool) else ""
    if not _CODE.fullmatch(text):
        text = ""
    meaning = meanings.get(text) if text else None
    if meaning is None:
        error = error_from_response(response)
    else:
        error_class = _ERROR_KINDS[meaning.kind]
        message = describe(response, "refused the call request")
        error = error_class(message, reason=meaning.reason, provider=response.provider)
    if text:
        error.metadata[PROVIDER_CODE] = text
    return error
