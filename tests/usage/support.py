"""A test's view of the usage ledger: records written as the ledger writes them, callers of
several tenants and operators, and the sums the service should answer, computed here."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from integration_api_proto.integration.v1 import UsageFilter
from integration_api_proto.integration.v1.grpc_aio import OperationsServiceStub

from integration_api.auth.tokens import mint_token
from scripts.tools.usage_rows import UsageRow, write_usage
from tests.support.service import RunningService

if TYPE_CHECKING:
    import asyncpg

Metadata = tuple[tuple[str, str], ...]
PROJECT = "p1"


@dataclass
class Ledger:
    service: RunningService
    operations: OperationsServiceStub
    connection: asyncpg.Connection[asyncpg.Record]

    async def write(self, rows: Sequence[UsageRow]) -> None:
        await write_usage(self.connection, rows)

    def tenant(self, organization: str) -> Metadata:
        token = mint_token(
            self.service.settings.secret,
            organization_id=organization,
            project_id=PROJECT,
            user_id="alice",
        )
        return (("authorization", f"Bearer {token}"),)

    def operator(self) -> Metadata:
        token = mint_token(
            self.service.settings.secret,
            organization_id="ops",
            project_id="ops",
            subject="olga",
            operator=True,
        )
        return (("authorization", f"Bearer {token}"),)


def new_organization() -> str:
    return "org-" + secrets.token_hex(4)


def timestamp_filter(start: datetime, end: datetime, **fields: str) -> UsageFilter:
    return UsageFilter(start_time=start, end_time=end, **fields)


@dataclass
class Shape:
    """The kinds of record a random ledger mixes."""

    credentials: tuple[str, ...] = ("cred-a", "cred-b", "cred-c")
    providers: tuple[str, ...] = ("prov-one", "prov-two")
    models: tuple[str, ...] = ("model-small", "model-large", "")
    operations: tuple[str, ...] = ("chat", "embed", "transcribe", "synthesize")
    outcomes: tuple[str, ...] = ("ok", "ok", "ok", "unavailable", "cancelled")
    routes: tuple[str, ...] = ("", "", "route-1")


def random_rows(
    rng: random.Random,
    organization: str,
    start: datetime,
    span: timedelta,
    count: int,
    shape: Shape | None = None,
) -> list[UsageRow]:
    """`count` records at random instants of [start, start + span), of every kind."""
    shape = shape or Shape()
    rows = []
    for _ in range(count):
        offset = timedelta(microseconds=rng.randrange(int(span.total_seconds() * 1_000_000)))
        reported = rng.random() < 0.8
        route = rng.choice(shape.routes)
        rows.append(
            UsageRow(
                occurred_at=start + offset,
                organization_id=organization,
                project_id=PROJECT,
                provider=rng.choice(shape.providers),
                operation=rng.choice(shape.operations),
                credential_id=rng.choice(shape.credentials),
                route_id=route,
                route_target=rng.randrange(2) if route else None,
                model=rng.choice(shape.models),
                outcome=rng.choice(shape.outcomes),
                input_tokens=rng.randrange(5000) if reported else None,
                cached_input_tokens=rng.randrange(100) if reported else None,
                cache_write_input_tokens=rng.randrange(50) if reported else None,
                output_tokens=rng.randrange(2000) if reported else None,
                reasoning_tokens=rng.randrange(300) if reported else None,
                audio_seconds_in=rng.random() * 30 if rng.random() < 0.3 else None,
                audio_seconds_out=rng.random() * 30 if rng.random() < 0.3 else None,
                characters=rng.randrange(900) if rng.random() < 0.3 else None,
                search_units=rng.randrange(3) if rng.random() < 0.1 else None,
                duration_seconds=rng.random() * 4,
                cost_micros=Decimal(rng.randrange(10_000_000)) / Decimal(1_000_000),
                unpriced=rng.random() < 0.05,
            )
        )
    return rows


@dataclass
class Expected:
    """The sums the service must answer for a set of rows, computed from the rows alone."""

    calls: int = 0
    failed_calls: int = 0
    unpriced_calls: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    characters: int = 0
    search_units: int = 0
    audio_seconds_in: float = 0.0
    audio_seconds_out: float = 0.0
    duration_seconds: float = 0.0
    cost: Decimal = field(default_factory=Decimal)

    def add(self, row: UsageRow) -> None:
        self.calls += 1
        self.failed_calls += row.outcome != "ok"
        self.unpriced_calls += row.unpriced
        for name in (
            "input_tokens",
            "cached_input_tokens",
            "cache_write_input_tokens",
            "output_tokens",
            "reasoning_tokens",
            "characters",
            "search_units",
            "audio_seconds_in",
            "audio_seconds_out",
        ):
            setattr(self, name, getattr(self, name) + (getattr(row, name) or 0))
        self.duration_seconds += row.duration_seconds
        self.cost += row.cost_micros

    @property
    def cost_micros(self) -> int:
        return int(self.cost.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected_groups(
    rows: Iterable[UsageRow], key: Callable[[UsageRow], tuple[str, ...]]
) -> dict[tuple[str, ...], Expected]:
    groups: dict[tuple[str, ...], Expected] = {}
    for row in rows:
        groups.setdefault(key(row), Expected()).add(row)
    return dict(sorted(groups.items()))


def day_of(row: UsageRow) -> str:
    return row.occurred_at.astimezone(UTC).date().isoformat()


def within(rows: Iterable[UsageRow], start: datetime, end: datetime) -> list[UsageRow]:
    return [row for row in rows if start <= row.occurred_at < end]
