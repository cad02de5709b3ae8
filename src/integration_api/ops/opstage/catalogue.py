"""The actions the agent offers Opstage, with the input schema each payload must satisfy.

The backend does not check payloads, so the agent does (`payload_violations`), and no schema
has a field that could carry a provider secret: unknown fields are refused. A new key arrives
only through OperationsService.ConfirmRotation, never through the console.
"""

from __future__ import annotations

import re
from typing import Any

UUID_PATTERN = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
MAX_REASON = 500

_CREDENTIAL_ID = {
    "type": "string",
    "title": "Credential",
    "description": "Id of the credential (see the service's configs and inventory)",
    "maxLength": 36,
}
_REASON = {
    "type": "string",
    "title": "Reason",
    "description": "Why; recorded in the audit trail",
    "format": "textarea",
    "maxLength": MAX_REASON,
}


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_AFTER = {
    "type": "string",
    "title": "After",
    "description": "Id of the credential the previous page ended with (empty: the first page)",
    "maxLength": 36,
}

_FIRST = {
    "type": "integer",
    "title": "First row number",
    "description": "Number of the page's first row, for its title (0 or 1: the first page)",
    "minimum": 0,
}
MAX_ROW_NUMBER = 10_000_000

ACTIONS: dict[str, dict[str, Any]] = {
    "listCredentials": {
        "name": "listCredentials",
        "label": "List credentials",
        "description": "Every credential of the provider, a page at a time: tenant, name, model, "
        "upstream, last check and its outcome, last rotation and by whom",
        "dangerLevel": "LOW",
        "requiresConfirmation": False,
        "inputSchema": _schema({"after": _AFTER, "first": _FIRST}, []),
        "timeoutSeconds": 30,
        "category": "credentials",
        "order": 0,
        "enabled": True,
    },
    "runHealthCheck": {
        "name": "runHealthCheck",
        "label": "Run health check",
        "description": "Verify credentials with the provider's unbilled check (all: none named)",
        "dangerLevel": "LOW",
        "requiresConfirmation": False,
        "inputSchema": _schema({"credentialId": _CREDENTIAL_ID}, []),
        "timeoutSeconds": 60,
        "category": "health",
        "order": 1,
        "enabled": True,
    },
    "rotateKey": {
        "name": "rotateKey",
        "label": "Rotate key",
        "description": "Open a gated rotation; a second person confirms it with the new key "
        "through OperationsService.ConfirmRotation",
        "dangerLevel": "HIGH",
        "requiresConfirmation": True,
        "inputSchema": _schema(
            {"credentialId": _CREDENTIAL_ID, "reason": _REASON}, ["credentialId", "reason"]
        ),
        "timeoutSeconds": 30,
        "category": "credentials",
        "order": 2,
        "enabled": True,
    },
    "disableCredential": {
        "name": "disableCredential",
        "label": "Disable credential",
        "description": "Refuse every use of the credential at once, on every replica",
        "dangerLevel": "HIGH",
        "requiresConfirmation": True,
        "inputSchema": _schema(
            {"credentialId": _CREDENTIAL_ID, "reason": _REASON}, ["credentialId", "reason"]
        ),
        "timeoutSeconds": 30,
        "category": "credentials",
        "order": 3,
        "enabled": True,
    },
}

SERVICE_ACTIONS = ["runHealthCheck"]
PROVIDER_ACTIONS = ["listCredentials", "runHealthCheck", "rotateKey", "disableCredential"]


def payload_violations(action: str, payload: object) -> list[str]:
    """What is wrong with a payload for `action` (empty when it can run)."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        return ["payload must be an object"]
    schema = ACTIONS[action]["inputSchema"]
    problems = [f"{name} is not accepted" for name in payload if name not in schema["properties"]]
    problems += [f"{name} is required" for name in schema["required"] if not payload.get(name)]
    for name in ("credentialId", "after"):
        value = payload.get(name)
        # Empty is "none" (the console sends "" for a field left blank).
        if (
            value is not None
            and value != ""
            and (not isinstance(value, str) or not UUID_PATTERN.fullmatch(value))
        ):
            problems.append(f"{name} must be a credential id (a UUID)")
    first = payload.get("first")
    if first is not None and (
        not isinstance(first, int) or isinstance(first, bool) or not 0 <= first <= MAX_ROW_NUMBER
    ):
        problems.append(f"first must be a whole number from 0 to {MAX_ROW_NUMBER}")
    reason = payload.get("reason")
    # The reason is stored as text, which cannot hold NUL (as in gRPC requests, refused first).
    if reason is not None and (
        not isinstance(reason, str) or len(reason) > MAX_REASON or "\x00" in reason
    ):
        problems.append(f"reason must be text of at most {MAX_REASON} characters, without NUL")
    return problems
