"""The values the OAuth repositories read and write; no plaintext token is ever among them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from integration_api.principal import Tenant

CONNECTION_STATUSES = ("active", "reauthorization_required", "revoked")


@dataclass(frozen=True)
class NewOAuthState:
    """An authorization in progress, as stored: the state only as its hash."""

    state_hash: bytes = field(repr=False)
    tenant: Tenant
    actor: str
    provider: str
    connection_name: str
    scopes: tuple[str, ...]
    redirect_after: str
    verifier_ciphertext: bytes = field(repr=False)
    key_id: str
    expires_at: datetime
    # The end user who started the flow; only that user may complete it ('' when none was named).
    user_id: str = ""


@dataclass(frozen=True)
class SealedTokens:
    """What a token response leaves in a row: the sealed tokens and what is not secret."""

    ciphertext: bytes = field(repr=False)
    key_id: str
    token_type: str
    scopes: tuple[str, ...]
    has_refresh_token: bool
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None


@dataclass(frozen=True)
class AuthorizedAccount:
    """A completed authorization: whose account it is and under which connection name."""

    tenant: Tenant
    provider: str
    name: str
    account_id: str
    account_email: str
    actor: str


@dataclass(frozen=True)
class PendingConnection:
    """A consented flow waiting for its completion step: whose it is and the sealed tokens."""

    code_hash: bytes = field(repr=False)
    account: AuthorizedAccount
    user_id: str
    tokens: SealedTokens
    expires_at: datetime


@dataclass(frozen=True)
class OAuthConnectionRow:
    id: str
    organization_id: str
    project_id: str
    provider: str
    name: str
    account_id: str
    account_email: str
    scopes: tuple[str, ...]
    status: str
    status_reason: str
    token_ciphertext: bytes | None = field(repr=False)
    key_id: str | None
    token_type: str
    has_refresh_token: bool
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    last_refreshed_at: datetime | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    version: int

    @property
    def tenant(self) -> Tenant:
        return Tenant(self.organization_id, self.project_id)


def state_from_record(record: asyncpg.Record) -> NewOAuthState:
    return NewOAuthState(
        state_hash=bytes(record["state_hash"]),
        tenant=Tenant(record["organization_id"], record["project_id"]),
        actor=record["actor"],
        provider=record["provider"],
        connection_name=record["connection_name"],
        scopes=tuple(record["scopes"]),
        redirect_after=record["redirect_after"],
        verifier_ciphertext=bytes(record["verifier_ciphertext"]),
        key_id=record["key_id"],
        expires_at=record["expires_at"],
        user_id=record["user_id"],
    )


def pending_from_record(record: asyncpg.Record) -> PendingConnection:
    return PendingConnection(
        code_hash=bytes(record["code_hash"]),
        account=AuthorizedAccount(
            tenant=Tenant(record["organization_id"], record["project_id"]),
            provider=record["provider"],
            name=record["connection_name"],
            account_id=record["account_id"],
            account_email=record["account_email"],
            actor=record["actor"],
        ),
        user_id=record["user_id"],
        tokens=SealedTokens(
            ciphertext=bytes(record["token_ciphertext"]),
            key_id=record["key_id"],
            token_type=record["token_type"],
            scopes=tuple(record["scopes"]),
            has_refresh_token=record["has_refresh_token"],
            access_token_expires_at=record["access_token_expires_at"],
            refresh_token_expires_at=record["refresh_token_expires_at"],
        ),
        expires_at=record["expires_at"],
    )


def connection_from_record(record: asyncpg.Record) -> OAuthConnectionRow:
    ciphertext = record["token_ciphertext"]
    return OAuthConnectionRow(
        id=str(record["id"]),
        organization_id=record["organization_id"],
        project_id=record["project_id"],
        provider=record["provider"],
        name=record["name"],
        account_id=record["account_id"],
        account_email=record["account_email"],
        scopes=tuple(record["scopes"]),
        status=record["status"],
        status_reason=record["status_reason"],
        token_ciphertext=bytes(ciphertext) if ciphertext is not None else None,
        key_id=record["key_id"],
        token_type=record["token_type"],
        has_refresh_token=record["has_refresh_token"],
        access_token_expires_at=record["access_token_expires_at"],
        refresh_token_expires_at=record["refresh_token_expires_at"],
        last_refreshed_at=record["last_refreshed_at"],
        created_at=record["created_at"],
        created_by=record["created_by"],
        updated_at=record["updated_at"],
        version=record["version"],
    )
