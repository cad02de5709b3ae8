"""Where the OAuth flows (`integration_api.oauth`) may send a client secret or a token.

Token, userinfo and revocation endpoints; these ids are egress destinations, not providers.
"""

from __future__ import annotations

from integration_api.providers.declaration import HostsOnly, ProviderFolder

GOOGLE_OAUTH = HostsOnly(
    "google-oauth", ("oauth2.googleapis.com", "openidconnect.googleapis.com", "www.googleapis.com")
)
GITHUB_OAUTH = HostsOnly("github-oauth", ("github.com", "api.github.com"))

FOLDER = ProviderFolder(providers=(), hosts_only=(GOOGLE_OAUTH, GITHUB_OAUTH))
