"""Converters between the contract's route messages and the domain's types."""

from __future__ import annotations

from datetime import timedelta

from integration_api_proto.integration.v1 import Route as RouteMessage
from integration_api_proto.integration.v1 import RoutePolicy
from integration_api_proto.integration.v1 import RouteTarget as TargetMessage

from integration_api.routes.model import Route, RouteTarget
from integration_api.routes.validation import RouteDraft

POLICY_TO_MESSAGE = {"failover": RoutePolicy.FAILOVER, "balance": RoutePolicy.BALANCE}
POLICY_FROM_MESSAGE = {value: key for key, value in POLICY_TO_MESSAGE.items()}


def draft_from_message(
    name: str,
    policy: RoutePolicy,
    targets: list[TargetMessage],
    first_token_timeout: timedelta | None,
) -> RouteDraft:
    return RouteDraft(
        name=name,
        # Unspecified or unknown: "" here, which validation names as the field to fix.
        policy=POLICY_FROM_MESSAGE.get(policy, ""),
        targets=tuple(
            RouteTarget(
                credential_id=target.credential_id,
                model=target.model,
                # The contract's 0 means the default share.
                weight=target.weight or 1,
                voice=target.voice,
            )
            for target in targets
        ),
        first_token_timeout=(
            first_token_timeout.total_seconds() if first_token_timeout is not None else None
        ),
    )


def route_message(route: Route) -> RouteMessage:
    timeout = route.first_token_timeout
    return RouteMessage(
        id=route.id,
        name=route.name,
        policy=POLICY_TO_MESSAGE[route.policy],
        targets=[
            TargetMessage(
                credential_id=target.credential_id,
                model=target.model,
                weight=target.weight,
                voice=target.voice,
            )
            for target in route.targets
        ],
        first_token_timeout=timedelta(seconds=timeout) if timeout is not None else None,
        created_at=route.created_at,
        updated_at=route.updated_at,
        created_by=route.created_by,
        version=route.version,
    )
