"""Checks of what a caller writes about a route, before anything reaches the database.

Whether each target's credential is the tenant's own is checked by the store, in the write's
own transaction; everything that can be judged from the request alone is checked here, and all
of it is reported at once.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from integration_api.credentials.validation import name_violations
from integration_api.errors import FieldViolation, InvalidArgument
from integration_api.routes.model import MAX_TARGETS, RoutePolicy, RouteTarget

# Route names are the keyset of ListRoutes' page tokens, which hold at most 64 characters of
# text; 64 is plenty for a name such as "chat-primary-eu".
MAX_ROUTE_NAME_LENGTH = 64
MAX_MODEL_LENGTH = 256
MAX_VOICE_LENGTH = 256
# Weights are relative shares; a thousand to one is already more skew than any real split.
MAX_WEIGHT = 1000
# A first-token deadline shorter than a network round trip would skip every target; one longer
# than ten minutes is no deadline a live call could wait for.
MIN_FIRST_TOKEN_TIMEOUT = 0.05
MAX_FIRST_TOKEN_TIMEOUT = 600.0
POLICIES: tuple[RoutePolicy, ...] = ("failover", "balance")


@dataclass(frozen=True)
class RouteDraft:
    """A route as the caller describes it (all fields, for a create; the changed ones are
    taken from it for an update)."""

    name: str
    # "" when the request named no known policy.
    policy: str
    targets: tuple[RouteTarget, ...]
    first_token_timeout: float | None


def draft_violations(draft: RouteDraft, fields: frozenset[str]) -> list[FieldViolation]:
    """What is wrong with the named `fields` of `draft`."""
    violations: list[FieldViolation] = []
    if "name" in fields:
        violations += _name_violations(draft.name)
    if "policy" in fields and draft.policy not in POLICIES:
        violations.append(
            FieldViolation("policy", "must be ROUTE_POLICY_FAILOVER or ROUTE_POLICY_BALANCE")
        )
    if "targets" in fields:
        violations += _targets_violations(draft.targets)
    if "first_token_timeout" in fields:
        violations += _timeout_violations(draft.first_token_timeout)
    return violations


def raise_if_any(violations: list[FieldViolation]) -> None:
    if violations:
        summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
        raise InvalidArgument(f"invalid route: {summary}", violations)


def _name_violations(name: str) -> list[FieldViolation]:
    violations = name_violations(name)
    if not violations and len(name) > MAX_ROUTE_NAME_LENGTH:
        violations.append(
            FieldViolation("name", f"must be at most {MAX_ROUTE_NAME_LENGTH} characters")
        )
    return violations


def _targets_violations(targets: tuple[RouteTarget, ...]) -> list[FieldViolation]:
    if not targets:
        return [FieldViolation("targets", "at least one target is required")]
    if len(targets) > MAX_TARGETS:
        return [FieldViolation("targets", f"at most {MAX_TARGETS} targets")]
    violations: list[FieldViolation] = []
    seen: set[tuple[str, str, str]] = set()
    for index, target in enumerate(targets):
        path = f"targets[{index}]"
        if not target.credential_id:
            violations.append(FieldViolation(f"{path}.credential_id", "is required"))
        violations += _text_violations(f"{path}.model", target.model, MAX_MODEL_LENGTH)
        violations += _text_violations(f"{path}.voice", target.voice, MAX_VOICE_LENGTH)
        if not 1 <= target.weight <= MAX_WEIGHT:
            violations.append(
                FieldViolation(f"{path}.weight", f"must be between 1 and {MAX_WEIGHT}")
            )
        # The same credential may appear twice with another model or voice (a cheaper model on
        # the same key as the last resort); the very same target twice only repeats a failure.
        key = (target.credential_id, target.model, target.voice)
        if key in seen:
            violations.append(FieldViolation(path, "repeats an earlier target"))
        seen.add(key)
    return violations


def _text_violations(path: str, value: str, limit: int) -> list[FieldViolation]:
    if len(value) > limit:
        return [FieldViolation(path, f"must be at most {limit} characters")]
    if value != value.strip():
        return [FieldViolation(path, "must not start or end with white space")]
    if any(unicodedata.category(character).startswith("C") for character in value):
        return [FieldViolation(path, "must not contain control characters")]
    return []


def _timeout_violations(timeout: float | None) -> list[FieldViolation]:
    if timeout is None:
        return []
    if not MIN_FIRST_TOKEN_TIMEOUT <= timeout <= MAX_FIRST_TOKEN_TIMEOUT:
        return [
            FieldViolation(
                "first_token_timeout",
                f"must be between {MIN_FIRST_TOKEN_TIMEOUT:g} s and "
                f"{MAX_FIRST_TOKEN_TIMEOUT:g} s (unset: no deadline of the route's own)",
            )
        ]
    return []
