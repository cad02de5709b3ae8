"""Which RPCs the server takes on: separate budgets, so no caller without a token can take a slot
that a token holder needs.

grpc's own `maximum_concurrent_rpcs` counts every RPC alike, health `Check` and anonymous
`Watch` streams included, so idle anonymous streams could refuse everyone. Here instead:

- health `Check` (and any other unary health method) is never counted: it answers at once;
- health `Watch` and server reflection need no token and may stay open, so each has a small
  budget of its own, in all and per peer address;
- an RPC whose token is refused is never counted: it ends at once with UNAUTHENTICATED;
- every authenticated RPC takes a slot of `GRPC_MAX_CONCURRENT_RPCS`; a streaming one that has
  not sent its first message yet also holds one of its tenant's
  `GRPC_MAX_OPENING_STREAMS_PER_TENANT`, so a token holder opening streams that say nothing
  cannot take the server's slots from the other tenants.

A call over its budget is refused at once with RESOURCE_EXHAUSTED (retryable, ErrorInfo reason
naming the budget), never queued. The counts are per process (per worker).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from prometheus_client import Counter

from integration_api.config import GrpcLimits
from integration_api.errors import ResourceExhausted
from integration_api.principal import Principal

HEALTH_PREFIX = "/grpc.health.v1.Health/"
WATCH_METHOD = "/grpc.health.v1.Health/Watch"
REFLECTION_PREFIX = "/grpc.reflection."

RPC_LIMIT = "SERVER_RPC_LIMIT"
WATCH_LIMIT = "HEALTH_WATCH_LIMIT"
REFLECTION_LIMIT = "REFLECTION_STREAM_LIMIT"
OPENING_LIMIT = "TENANT_OPENING_STREAM_LIMIT"
# A slot frees as soon as another call ends; a short pause is enough.
RETRY_AFTER_SECONDS = 1.0

REFUSED = Counter(
    "integration_api_grpc_admission_refused_total",
    "RPCs refused at once because their budget was full, by budget "
    "(rpc, watch, reflection, opening).",
    ["budget"],
)


def peer_address(peer: str) -> str:
    """The address part of grpc's peer string (`ipv4:10.0.0.7:51234` → `ipv4:10.0.0.7`).

    Budgets per peer count an address, not a connection: a caller opening many connections
    from one address is still one peer.
    """
    kind, _, rest = peer.partition(":")
    if kind in {"ipv4", "ipv6"}:
        host, _, _port = rest.rpartition(":")
        return f"{kind}:{host or rest}"
    return peer


@dataclass
class Budget:
    """Slots in all, and per key (a peer address, a tenant; 0: no per-key bound)."""

    name: str
    reason: str
    total: int
    per_key: int = 0
    # What one key is, for the refusal's message.
    key_is: str = "from one address"
    _open: int = 0
    _by_key: dict[str, int] = field(default_factory=dict)

    @property
    def open(self) -> int:
        return self._open

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        """Hold one slot for the block; ResourceExhausted at once when none is free."""
        mine = self._by_key.get(key, 0)
        if self._open >= self.total or (self.per_key and mine >= self.per_key):
            REFUSED.labels(self.name).inc()
            raise self._refusal(per_key=self._open < self.total)
        self._open += 1
        self._by_key[key] = mine + 1
        try:
            yield
        finally:
            self._open -= 1
            left = self._by_key[key] - 1
            if left:
                self._by_key[key] = left
            else:
                del self._by_key[key]

    def _refusal(self, *, per_key: bool) -> ResourceExhausted:
        scope = f"{self.per_key} {self.key_is}" if per_key else f"{self.total} in all"
        return ResourceExhausted(
            f"the server already has as many {self.name} calls open as it takes ({scope}); "
            "retry later",
            reason=self.reason,
            retry_after_seconds=RETRY_AFTER_SECONDS,
        )


class Admission:
    """The budget each RPC counts against (None: answered at once, never counted)."""

    def __init__(self, limits: GrpcLimits) -> None:
        self.rpcs = Budget("rpc", RPC_LIMIT, limits.max_concurrent_rpcs)
        self.watch = Budget(
            "watch", WATCH_LIMIT, limits.max_watch_streams, limits.max_watch_streams_per_peer
        )
        self.reflection = Budget(
            "reflection",
            REFLECTION_LIMIT,
            limits.max_reflection_streams,
            limits.max_reflection_streams_per_peer,
        )
        # Bounded in all by the RPC budget each of them also holds.
        self.opening = Budget(
            "opening",
            OPENING_LIMIT,
            limits.max_concurrent_rpcs,
            limits.max_opening_streams_per_tenant,
            key_is="for one tenant",
        )

    def opening_for(self, principal: Principal | None) -> tuple[Budget, str] | None:
        """The budget and key of a stream awaiting its first message (None: anonymous, whose
        streams have budgets of their own)."""
        if principal is None:
            return None
        tenant = principal.tenant
        return self.opening, f"{tenant.organization_id}\x00{tenant.project_id}"

    def budget_for(self, method: str, *, authenticated: bool) -> Budget | None:
        if method == WATCH_METHOD:
            return self.watch
        if method.startswith(HEALTH_PREFIX):
            return None
        if method.startswith(REFLECTION_PREFIX):
            return self.reflection
        return self.rpcs if authenticated else None
