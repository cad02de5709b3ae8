"""Where an inventory page ends: one token across two lists, credentials then OAuth connections.

A token names its section and the last row's sort key (creation time, id) within it; the
connections section may also start from its beginning. Like every page token it is
authenticated and bound to its query (tenant and filters), so it cannot be forged or replayed
with other filters.
"""

from __future__ import annotations

from dataclasses import dataclass

from integration_api.store.inventory import Position
from integration_api.store.pagination import PageTokens, invalid_page_token, keyset_after

CREDENTIALS = "credentials"
CONNECTIONS = "connections"
# After the last page: no section left.
FINISHED = ""


@dataclass(frozen=True)
class Cursor:
    section: str
    after: Position | None = None

    def token(self, tokens: PageTokens, scope: str) -> str:
        """The next page's token; "" when this cursor is past the last page."""
        if self.section == FINISHED:
            return ""
        if self.after is None:
            return tokens.encode([self.section], scope)
        created_at, row_id = self.after
        return tokens.encode([self.section, created_at.isoformat(), str(row_id)], scope)


def cursor_from_token(tokens: PageTokens, token: str, scope: str, first_section: str) -> Cursor:
    """Where to continue; the first section's start when there is no token."""
    if not token:
        return Cursor(first_section)
    position = tokens.decode(token, scope)
    section = position[0]
    if section not in (CREDENTIALS, CONNECTIONS):
        raise invalid_page_token()
    if len(position) == 1:
        return Cursor(str(section))
    return Cursor(str(section), keyset_after(position[1:]))
