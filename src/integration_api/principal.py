"""Who is calling: the tenant (organization, project) and the acting person or service.

Every audited act names one canonical identity, `subject:<id>`: the token's `sub`, or, for the
platform's service tokens that carry no `sub`, their `userId`. Both claims name the same
namespace, so `{"userId": "op1"}` and `{"sub": "op1"}` are one person, never two; when a token
carries both, `sub` decides and `userId` is display data only (logged, never compared). Actors
the service names itself (`service:…`, `anonymous:…`) can never be spelled by a token.
"""

from __future__ import annotations

from dataclasses import dataclass

SUBJECT_PREFIX = "subject:"
UNNAMED_ACTOR = "anonymous:token"


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
    def identity(self) -> str:
        """Who acts: `sub`, else `userId`; "" when the token names nobody."""
        return self.subject or self.user_id

    @property
    def actor(self) -> str:
        """How audit events and the two-person rule name whoever acted."""
        return subject_actor(self.identity) if self.identity else UNNAMED_ACTOR


def subject_actor(identity: str) -> str:
    """The actor of a token (or console user) whose canonical identity is `identity`."""
    return SUBJECT_PREFIX + identity
