"""Service tokens: HS256 JWTs signed with the shared SECRET, as the platform's services mint them.

Verification pins the algorithm (no `none`, no HS512 or RS256 confusion), requires `exp`,
honours `nbf`, and maps the platform's claim names (`organizationId`, `projectId`, `userId`)
to a Principal.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt

from integration_api.errors import Unauthenticated
from integration_api.principal import Principal, Tenant

ALGORITHM = "HS256"
# The claim and value that make a caller an operator: `"roles": ["operator"]`.
ROLES_CLAIM = "roles"
OPERATOR_ROLE = "operator"
CLOCK_SKEW_SECONDS = 30


def mint_token(
    secret: str,
    *,
    organization_id: str,
    project_id: str,
    user_id: str = "",
    ttl: timedelta = timedelta(hours=1),
    subject: str = "",
    operator: bool = False,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "organizationId": organization_id,
        "projectId": project_id,
        "iat": now,
        "nbf": now,
        "exp": now + int(ttl.total_seconds()),
    }
    if user_id:
        claims["userId"] = user_id
    if subject:
        claims["sub"] = subject
    if operator:
        claims[ROLES_CLAIM] = [OPERATOR_ROLE]
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    """Returns the token's principal or raises Unauthenticated with a reason that leaks nothing."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp"], "verify_aud": False},
            leeway=CLOCK_SKEW_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token expired") from None
    except jwt.ImmatureSignatureError:
        raise Unauthenticated("token not yet valid") from None
    except jwt.MissingRequiredClaimError:
        raise Unauthenticated("token has no exp claim") from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("token is invalid") from None
    organization_id = _identifier(claims.get("organizationId"))
    project_id = _identifier(claims.get("projectId"))
    if not organization_id or not project_id:
        raise Unauthenticated("token lacks organizationId and projectId")
    user_id = claims.get("userId", "")
    subject = claims.get("sub", "")
    return Principal(
        tenant=Tenant(organization_id=organization_id, project_id=project_id),
        user_id=str(user_id) if user_id else "",
        subject=str(subject) if subject else "",
        operator=has_operator_role(claims),
    )


def has_operator_role(claims: dict[str, Any]) -> bool:
    """Whether the token's `roles` claim (a list of strings) includes `operator`."""
    roles = claims.get(ROLES_CLAIM)
    return isinstance(roles, list) and OPERATOR_ROLE in roles


def _identifier(value: object) -> str:
    """The platform mints ids as strings or as numbers; both name the same tenant."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | str):
        return str(value).strip()
    return ""


def parse_ttl(text: str) -> timedelta:
    """`90s`, `15m`, `1h`, `7d` → timedelta (the CLI's --ttl)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError("ttl must look like 90s, 15m, 1h or 7d")
    return timedelta(seconds=int(text[:-1]) * units[text[-1]])
