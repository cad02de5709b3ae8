"""Why an authorization or a token request was refused, as typed errors with stable reasons.

The callback page and redirect show `reason_code` (the reason in lower case, without its
prefix); gRPC callers get the reason in the status details.
"""

from __future__ import annotations

from integration_api.errors import FailedPrecondition, InvalidArgument, ServiceError


class AuthorizationRefused(FailedPrecondition):
    """A callback or CompleteAuthorization that cannot complete; nothing was stored."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason=f"OAUTH_{reason.upper()}")


class CallbackParameterRefused(InvalidArgument):
    """A callback parameter that is repeated or longer than any provider sends."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason=f"OAUTH_{reason.upper()}")


class GrantRejected(FailedPrecondition):
    """The provider refused the code or refresh token itself (`invalid_grant`,
    `bad_refresh_token`, `bad_verification_code`): trying again cannot help."""

    def __init__(self, provider: str) -> None:
        super().__init__(
            f"{provider} refused the authorization grant", reason="OAUTH_GRANT_REJECTED"
        )


class TokenRequestRefused(FailedPrecondition):
    """The token endpoint refused the request for good (a 4xx other than a dead grant or our
    client, or GitHub's `200` carrying another `error`): sending it again cannot help, so it is
    a refusal, never "unavailable"."""

    def __init__(self, provider: str) -> None:
        super().__init__(
            f"{provider} refused the token request", reason="OAUTH_TOKEN_REQUEST_REFUSED"
        )


class ClientMisconfigured(FailedPrecondition):
    """The provider refused our client id or secret: an operator must fix the configuration;
    the user's connection is not at fault."""

    def __init__(self, provider: str) -> None:
        super().__init__(
            f"{provider} refused the OAuth client credentials; check the {provider.upper()}"
            "_OAUTH_CLIENT_ID and _CLIENT_SECRET settings",
            reason="OAUTH_CLIENT_MISCONFIGURED",
        )


class ReauthorizationRequired(FailedPrecondition):
    def __init__(self) -> None:
        super().__init__(
            "the provider no longer accepts this connection's refresh token; the user must "
            "authorize again",
            reason="REAUTHORIZATION_REQUIRED",
        )


def reason_code(error: ServiceError) -> str:
    """The short code a browser sees: `OAUTH_STATE_UNKNOWN` → `state_unknown`."""
    return error.reason.removeprefix("OAUTH_").lower()
