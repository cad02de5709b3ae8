"""Builders for the values the store tests write: unique tenants, credentials and events."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from integration_api.principal import Tenant
from integration_api.store.models import AuditEvent, NewCredential
from integration_api.store.pagination import PageTokens
from integration_api.vault import Keyring, generate_key

# The page tokens of the store tests, under a keyring of their own.
PAGE_TOKENS = PageTokens(Keyring.from_settings(generate_key()))


def unique_tenant() -> Tenant:
    """A tenant no other test uses, so tests can share one database without seeing each other."""
    return Tenant(f"org-{secrets.token_hex(4)}", f"project-{secrets.token_hex(4)}")


def new_credential(
    tenant: Tenant,
    *,
    name: str | None = None,
    provider: str = "openai",
    status: str = "active",
    key_id: str = "k0000000000000001",
    config: dict[str, Any] | None = None,
) -> NewCredential:
    return NewCredential(
        id=str(uuid.uuid4()),
        tenant=tenant,
        provider=provider,
        name=name or f"credential-{secrets.token_hex(3)}",
        config=config if config is not None else {"base_url": "https://api.example.test/v1"},
        ciphertext=b"\x01" + secrets.token_bytes(40),
        key_id=key_id,
        secret_hint="…abcd",
        fingerprint=secrets.token_hex(16),
        status=status,
        created_by="user:alice",
    )


def audit_event(
    tenant: Tenant, action: str, target_id: str, *, details: dict[str, Any] | None = None
) -> AuditEvent:
    return AuditEvent(
        actor="user:alice",
        tenant=tenant,
        action=action,
        target_type="credential",
        target_id=target_id,
        request_id=f"req-{secrets.token_hex(4)}",
        details=details or {},
    )
