"""Where the user may be sent after a callback: only URLs the operator listed, compared exactly.

Exact comparison needs no URL parsing, so none of the tricks that fool parsers (`//host`,
`/\\host`, `%2F%2Fhost`, `https://allowed.example@evil.example`) can match an entry that is not
literally that string. Entries themselves are checked once, at start-up.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from integration_api.config import ConfigError
from integration_api.errors import InvalidArgument


def check_allow_list(entries: tuple[str, ...]) -> None:
    """Refuse entries that are not plain https URLs or local paths (ConfigError)."""
    for entry in entries:
        if entry.startswith("/") and not entry.startswith(("//", "/\\")) and "\\" not in entry:
            continue
        parts = urlsplit(entry)
        if parts.scheme in ("https", "http") and parts.hostname and "@" not in parts.netloc:
            continue
        raise ConfigError("OAUTH_REDIRECT_ALLOW entries must be http(s) URLs or paths")


def require_allowed(redirect_after: str, allowed: tuple[str, ...]) -> str:
    if redirect_after and redirect_after not in allowed:
        raise InvalidArgument.for_field(
            "redirect_after", "is not on the operator's allow list (OAUTH_REDIRECT_ALLOW)"
        )
    return redirect_after


def with_outcome(redirect_after: str, outcome: dict[str, str]) -> str:
    """`redirect_after` with the outcome appended to its query (never a token)."""
    separator = "&" if "?" in redirect_after else "?"
    return f"{redirect_after}{separator}{urlencode(outcome)}"
