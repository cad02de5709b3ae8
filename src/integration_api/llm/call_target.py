"""What a call is made through: one stored credential, or one stored route of credentials."""

from __future__ import annotations

from integration_api.errors import InvalidArgument


def check_one_target(credential_id: str, route_id: str) -> None:
    """Refuses a request naming neither a credential nor a route, or both (INVALID_ARGUMENT)."""
    if credential_id and route_id:
        raise InvalidArgument.for_field(
            "route_id", "must not be set together with credential_id (set exactly one)"
        )
    if not credential_id and not route_id:
        raise InvalidArgument.for_field("credential_id", "is required (or route_id)")
