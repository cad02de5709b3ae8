"""Where a credential's key is sent: checked against the egress policy before anything is
stored, and changed only together with the key itself.

A stored key may not be pointed at another place by someone who does not hold it: a config
update that changes `base_url` or `region` is refused, and such a change travels in a rotation
that carries the secret (verified against the new place). A Vertex key's `token_uri` lives in
its key file, so it can only change by rotation anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from integration_api.credentials.catalog import DestinationPolicy
from integration_api.credentials.model import (
    BASE_URL_FIELD,
    REGION_FIELD,
    SECRET_FIELD,
    CredentialConfig,
)
from integration_api.errors import FieldViolation, InvalidArgument

ROTATE_INSTEAD = (
    "changes where the key is sent; rotate the credential with the new config and its secret"
)


def _refused(refusal: str) -> str:
    return f"is refused by the egress policy: {refusal}; list it in EGRESS_ALLOW to allow it"


async def egress_violations(
    policy: DestinationPolicy, provider: str, config: CredentialConfig, token_uri: str
) -> list[FieldViolation]:
    """Every configured destination of a credential (`token_uri`: its key file's) refused."""
    violations: list[FieldViolation] = []
    base_url = config.base_url.strip()
    if base_url:
        refusal = await policy.refusal(provider, base_url)
        if refusal is not None:
            violations.append(FieldViolation(BASE_URL_FIELD, _refused(refusal)))
    if token_uri:
        refusal = await policy.refusal(provider, token_uri)
        if refusal is not None:
            violations.append(FieldViolation(SECRET_FIELD, "token_uri " + _refused(refusal)))
    return violations


async def check_egress(
    policy: DestinationPolicy, provider: str, config: CredentialConfig, token_uri: str
) -> None:
    """Raise `InvalidArgument` naming each refused destination (before any call is made)."""
    violations = await egress_violations(policy, provider, config, token_uri)
    if violations:
        summary = "; ".join(f"{item.field}: {item.description}" for item in violations)
        raise InvalidArgument(f"invalid credential: {summary}", violations)


@dataclass(frozen=True)
class DestinationChange:
    """One field that decides where a key goes, before and after a change."""

    name: str
    before: str
    after: str

    def audit_details(self) -> dict[str, str]:
        return {f"{self.name}_from": self.before, f"{self.name}_to": self.after}


def destination_changes(
    before: CredentialConfig,
    after: CredentialConfig,
    token_uri_before: str = "",
    token_uri_after: str = "",
) -> list[DestinationChange]:
    """The destination fields (`base_url`, `region`, `token_uri`) that differ."""
    pairs = (
        ("base_url", before.base_url.strip(), after.base_url.strip()),
        ("region", before.region.strip(), after.region.strip()),
        ("token_uri", token_uri_before, token_uri_after),
    )
    return [DestinationChange(name, old, new) for name, old, new in pairs if old != new]


def refuse_destination_change(before: CredentialConfig, after: CredentialConfig) -> None:
    """A config-only update may not move the key: raise `InvalidArgument` if it would."""
    fields = {"base_url": BASE_URL_FIELD, "region": REGION_FIELD}
    violations = [
        FieldViolation(fields[change.name], ROTATE_INSTEAD)
        for change in destination_changes(before, after)
    ]
    if violations:
        summary = "; ".join(f"{item.field}: {item.description}" for item in violations)
        raise InvalidArgument(f"invalid request: {summary}", violations)
