"""How a credential row becomes a cache entry's JSON and back (ciphertext in base64)."""

from __future__ import annotations

import base64
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from integration_api.store.models import CredentialRow

_TIME_FIELDS = {"last_check_at", "rotated_at", "created_at", "updated_at"}
_FIELD_NAMES = [field.name for field in fields(CredentialRow)]


def row_to_json(row: CredentialRow) -> dict[str, Any]:
    data: dict[str, Any] = asdict(row)
    data["ciphertext"] = base64.b64encode(row.ciphertext).decode()
    for name in _TIME_FIELDS:
        value = data[name]
        data[name] = value.isoformat() if value is not None else None
    return data


def row_from_json(data: dict[str, Any]) -> CredentialRow:
    data = dict(data)
    data["ciphertext"] = base64.b64decode(data["ciphertext"], validate=True)
    for name in _TIME_FIELDS:
        if data.get(name) is not None:
            data[name] = datetime.fromisoformat(data[name])
    return CredentialRow(**{name: data[name] for name in _FIELD_NAMES})
