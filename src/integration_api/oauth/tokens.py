"""Tokens in memory, and how they are sealed for a connection's row.

The associated data binds the sealed tokens to the tenant, the connection id and the provider,
so tokens copied to another row or tenant do not decrypt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime

from integration_api.principal import Tenant
from integration_api.store.oauth_rows import OAuthConnectionRow, SealedTokens
from integration_api.vault import AssociatedData, Envelope


@dataclass(frozen=True)
class TokenSet:
    """What a token response granted; the token values never appear in `repr`."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    token_type: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    refresh_expires_at: datetime | None = None

    def carry_over(self, previous: TokenSet) -> TokenSet:
        """A refresh answer completed from the tokens it replaces: Google does not send the
        refresh token again, and a response without `scope` keeps the scopes granted."""
        return replace(
            self,
            refresh_token=self.refresh_token or previous.refresh_token,
            scopes=self.scopes or previous.scopes,
            refresh_expires_at=self.refresh_expires_at or previous.refresh_expires_at,
        )


def _associated_data(tenant: Tenant, connection_id: str, provider: str) -> AssociatedData:
    return AssociatedData(
        organization_id=tenant.organization_id,
        project_id=tenant.project_id,
        credential_id=connection_id,
        provider=f"oauth:{provider}",
    )


def seal_tokens(
    envelope: Envelope, tenant: Tenant, connection_id: str, provider: str, tokens: TokenSet
) -> SealedTokens:
    plaintext = json.dumps(
        {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token}
    ).encode()
    ciphertext = envelope.encrypt(plaintext, _associated_data(tenant, connection_id, provider))
    return SealedTokens(
        ciphertext=ciphertext,
        key_id=envelope.key_id_of(ciphertext),
        token_type=tokens.token_type,
        scopes=tokens.scopes,
        has_refresh_token=bool(tokens.refresh_token),
        access_token_expires_at=tokens.expires_at,
        refresh_token_expires_at=tokens.refresh_expires_at,
    )


def open_tokens(envelope: Envelope, row: OAuthConnectionRow) -> TokenSet:
    if row.token_ciphertext is None:
        raise ValueError("the connection holds no tokens")
    plaintext = envelope.decrypt(
        row.token_ciphertext, _associated_data(row.tenant, row.id, row.provider)
    )
    values = json.loads(plaintext)
    return TokenSet(
        access_token=values["access_token"],
        refresh_token=values["refresh_token"],
        token_type=row.token_type,
        scopes=row.scopes,
        expires_at=row.access_token_expires_at,
        refresh_expires_at=row.refresh_token_expires_at,
    )


def pending_binding(code_hash: bytes) -> str:
    """What a pending connection's tokens are bound to in place of a connection id."""
    return f"pending:{code_hash.hex()}"


def open_sealed(
    envelope: Envelope, tenant: Tenant, bound_id: str, provider: str, sealed: SealedTokens
) -> TokenSet:
    """Tokens sealed by `seal_tokens` for `bound_id`, with the values kept beside them."""
    values = json.loads(
        envelope.decrypt(sealed.ciphertext, _associated_data(tenant, bound_id, provider))
    )
    return TokenSet(
        access_token=values["access_token"],
        refresh_token=values["refresh_token"],
        token_type=sealed.token_type,
        scopes=sealed.scopes,
        expires_at=sealed.access_token_expires_at,
        refresh_expires_at=sealed.refresh_token_expires_at,
    )


def seal_verifier(
    envelope: Envelope, tenant: Tenant, state_id: str, provider: str, verifier: str
) -> bytes:
    """The PKCE verifier of a pending authorization, bound to its state and provider."""
    return envelope.encrypt(verifier.encode(), _associated_data(tenant, state_id, provider))


def open_verifier(
    envelope: Envelope, tenant: Tenant, state_id: str, provider: str, ciphertext: bytes
) -> str:
    return envelope.decrypt(ciphertext, _associated_data(tenant, state_id, provider)).decode()
