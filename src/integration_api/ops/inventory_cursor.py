"""Where an inventory page ends: one token across two lists, credentials then OAuth connections.

A token names its section and the last row's sort key (creation time, id) within it; the
connections section may also start from its beginning. Like every page token it is bound to its
query (tenant and filters), so it cannot be replayed with other filters.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from integration_api.store.inventory import Position
from integration_api.store.pagination import (
    decode_page_token,
    encode_page_token,
    invalid_page_token,
)

CREDENTIALS = "credentials"
CONNECTIONS = "connections"
# After the last page: no section left.
FINISHED = ""


@dataclass(frozen=True)
class Cursor:
    section: str
    after: Position | None = None

    def token(self, scope: str) -> str:
        """The next page's token; "" when this cursor is past the last page."""
        if self.section == FINISHED:
            return ""
        if self.after is None:
            return encode_page_token([self.section], scope)
        created_at, row_id = self.after
        return encode_page_token([self.section, created_at.isoformat(), str(row_id)], scope)


def cursor_from_token(token: str, scope: str, first_section: str) -> Cursor:
    """Where to continue; the first section's start when there is no token."""
    if not token:
        return Cursor(first_section)
    position = decode_page_token(token, scope)
    section = position[0] if position else None
    if section not in (CREDENTIALS, CONNECTIONS):
        raise invalid_page_token()
    if len(position) == 1:
        return Cursor(str(section))
    if len(position) != 3:
        raise invalid_page_token()
    try:
        created_at = datetime.fromisoformat(str(position[1]))
        row_id = uuid.UUID(str(position[2]))
    except ValueError:
        raise invalid_page_token() from None
    if created_at.tzinfo is None:
        raise invalid_page_token()
    return Cursor(str(section), (created_at, row_id))
