"""The OAuth providers the service knows: one line each."""

from __future__ import annotations

from collections.abc import Callable

from integration_api.config import OAuthClientSettings, OAuthSettings
from integration_api.errors import FailedPrecondition, InvalidArgument
from integration_api.oauth.github import github_provider
from integration_api.oauth.google import google_provider
from integration_api.oauth.provider import OAuthProvider

_BUILDERS: dict[str, Callable[[OAuthClientSettings], OAuthProvider]] = {
    "google": google_provider,
    "github": github_provider,
}


def provider_names() -> tuple[str, ...]:
    return tuple(_BUILDERS)


class OAuthProviders:
    def __init__(self, settings: OAuthSettings) -> None:
        self._settings = settings
        self._clients = {"google": settings.google, "github": settings.github}

    def redirect_uri(self, provider: str) -> str:
        """One redirect URI per provider (RFC 9700's mix-up defence), from configuration only."""
        return f"{self._settings.callback_url}/{provider}"

    def get(self, name: str) -> OAuthProvider:
        builder = _BUILDERS.get(name)
        if builder is None:
            raise InvalidArgument.for_field(
                "provider", f"must be one of {', '.join(provider_names())}"
            )
        client = self._clients[name]
        if not self._settings.enabled or not client.configured:
            prefix = name.upper()
            raise FailedPrecondition(
                f"OAuth for {name} is not configured (OAUTH_CALLBACK_URL, "
                f"{prefix}_OAUTH_CLIENT_ID, {prefix}_OAUTH_CLIENT_SECRET)",
                reason="OAUTH_NOT_CONFIGURED",
            )
        return builder(client)
