"""What every credential cache offers, and how a row becomes cache bytes and back.

A cache entry is a credential row exactly as stored: the vault's ciphertext and non-secret
metadata. Plaintext never enters a cache. Entries always expire (TTL), and every write,
disable and delete invalidates the entry, so a cache can only ever be briefly stale in the
direction of "fetch again from PostgreSQL".
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any, Protocol

from integration_api.store.models import CredentialRow

_TIME_FIELDS = {"last_check_at", "rotated_at", "created_at", "updated_at"}
_FIELD_NAMES = [field.name for field in fields(CredentialRow)]


class CredentialCache(Protocol):
    async def get(self, credential_id: str) -> CredentialRow | None: ...

    async def put(self, row: CredentialRow) -> None: ...

    async def invalidate(self, credential_id: str) -> None: ...

    async def clear(self) -> None: ...

    async def close(self) -> None: ...


def encode_row(row: CredentialRow) -> bytes:
    data: dict[str, Any] = asdict(row)
    data["ciphertext"] = base64.b64encode(row.ciphertext).decode()
    for name in _TIME_FIELDS:
        value = data[name]
        data[name] = value.isoformat() if value is not None else None
    return json.dumps(data, separators=(",", ":")).encode()


def decode_row(raw: bytes) -> CredentialRow:
    data = json.loads(raw)
    data["ciphertext"] = base64.b64decode(data["ciphertext"])
    for name in _TIME_FIELDS:
        if data.get(name) is not None:
            data[name] = datetime.fromisoformat(data[name])
    return CredentialRow(**{name: data[name] for name in _FIELD_NAMES})
