"""Who is calling: the tenant (organization, project) and the acting user or service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tenant:
    """Every credential, connection and audit event belongs to exactly one tenant."""

    organization_id: str
    project_id: str


@dataclass(frozen=True)
class Principal:
    """The verified identity behind one RPC, taken from the caller's token."""

    tenant: Tenant
    user_id: str = ""
    subject: str = ""
    # Granted by the token's `roles` claim (see auth/tokens.py): acts across tenants.
    operator: bool = False

    @property
    def actor(self) -> str:
        """How audit events name whoever acted."""
        if self.user_id:
            return f"user:{self.user_id}"
        return f"service:{self.subject or 'unknown'}"
