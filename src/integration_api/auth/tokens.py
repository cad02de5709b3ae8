"""Service tokens: HS256 JWTs signed with the shared SECRET, as the platform's services mint them.

Verification pins the algorithm (no `none`, no HS512 or RS256 confusion), requires `exp`,
honours `nbf`, refuses a lifetime longer than the policy allows (a token valid for a century
is a leaked key), checks `aud` and `iss` when the operator configured them, and maps the
platform's claim names (`organizationId`, `projectId`, `userId`) to a Principal. A caller is
an operator when its `roles` claim (a list of strings) includes `operator`; an operator token
must name its person in `sub` (see principal.py: the audit's actor and the two-person rule
compare that identity), so one without is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt

from integration_api.auth.claims import actor_id, tenant_id
from integration_api.config import JwtSettings
from integration_api.errors import Unauthenticated
from integration_api.principal import Principal, Tenant

ALGORITHM = "HS256"
DEFAULT_LEEWAY_SECONDS = JwtSettings().leeway_seconds
DEFAULT_MAX_TTL_SECONDS = JwtSettings().max_ttl_seconds
ROLES_CLAIM = "roles"
OPERATOR_ROLE = "operator"


@dataclass(frozen=True)
class TokenPolicy:
    """What a token must satisfy besides its signature."""

    secret: str = field(repr=False)
    audience: str = ""
    issuer: str = ""
    max_ttl_seconds: int = DEFAULT_MAX_TTL_SECONDS
    # Accepted clock skew: a token is valid until `exp + leeway` and from `nbf - leeway`.
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS

    @classmethod
    def from_settings(cls, secret: str, jwt_settings: JwtSettings) -> TokenPolicy:
        return cls(
            secret=secret,
            audience=jwt_settings.audience,
            issuer=jwt_settings.issuer,
            max_ttl_seconds=jwt_settings.max_ttl_seconds,
            leeway_seconds=jwt_settings.leeway_seconds,
        )


def mint_token(
    secret: str,
    *,
    organization_id: str,
    project_id: str,
    user_id: str = "",
    ttl: timedelta = timedelta(hours=1),
    subject: str = "",
    audience: str = "",
    issuer: str = "",
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
    optional = {"userId": user_id, "sub": subject, "aud": audience, "iss": issuer}
    claims.update({name: value for name, value in optional.items() if value})
    if operator:
        claims[ROLES_CLAIM] = [OPERATOR_ROLE]
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(policy: TokenPolicy, token: str) -> Principal:
    """Returns the token's principal or raises Unauthenticated with a reason that leaks nothing."""
    claims = _decoded(policy, token)
    _require_bounded_lifetime(policy, claims)
    principal = Principal(
        tenant=Tenant(
            organization_id=tenant_id(claims, "organizationId"),
            project_id=tenant_id(claims, "projectId"),
        ),
        user_id=actor_id(claims, "userId"),
        subject=actor_id(claims, "sub"),
        operator=has_operator_role(claims),
    )
    if principal.operator and not principal.subject:
        raise Unauthenticated("an operator token must name its person in the sub claim")
    return principal


def has_operator_role(claims: dict[str, Any]) -> bool:
    """Whether the token's `roles` claim (a list of strings) includes `operator`."""
    roles = claims.get(ROLES_CLAIM)
    return isinstance(roles, list) and OPERATOR_ROLE in roles


def _decoded(policy: TokenPolicy, token: str) -> dict[str, Any]:
    required = ["exp"] + (["aud"] if policy.audience else []) + (["iss"] if policy.issuer else [])
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            policy.secret,
            algorithms=[ALGORITHM],
            audience=policy.audience or None,
            issuer=policy.issuer or None,
            options={"require": required, "verify_aud": bool(policy.audience)},
            leeway=policy.leeway_seconds,
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token expired") from None
    except jwt.ImmatureSignatureError:
        raise Unauthenticated("token not yet valid") from None
    except jwt.MissingRequiredClaimError as error:
        raise Unauthenticated(f"token has no {error.claim} claim") from None
    except jwt.InvalidAudienceError:
        raise Unauthenticated("token audience is not accepted") from None
    except jwt.InvalidIssuerError:
        raise Unauthenticated("token issuer is not accepted") from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("token is invalid") from None
    return claims


def _require_bounded_lifetime(policy: TokenPolicy, claims: dict[str, Any]) -> None:
    # `exp - iat` when the token says when it was issued; otherwise what is left of it now.
    issued_at = claims.get("iat")
    start = float(issued_at) if issued_at is not None else time.time() - policy.leeway_seconds
    if float(claims["exp"]) - start > policy.max_ttl_seconds:
        raise Unauthenticated(
            f"token lifetime exceeds {policy.max_ttl_seconds} seconds (JWT_MAX_TTL_SECONDS)"
        )


def parse_ttl(text: str) -> timedelta:
    """`90s`, `15m`, `1h`, `7d` → timedelta (the CLI's --ttl)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError("ttl must look like 90s, 15m, 1h or 7d")
    return timedelta(seconds=int(text[:-1]) * units[text[-1]])
