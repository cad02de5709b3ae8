"""A test's view of the usage ledger: records written by the ledger's own writer, callers of
several tenants and operators, and the sums the service should answer, computed here."""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from integration_api_proto.integration.v1 import UsageFilter
from integration_api_proto.integration.v1.grpc_aio import OperationsServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.store.usage_columns import SUMMED_COLUMNS
from integration_api.store.usage_queries import UsageSums
from integration_api.store.usage_records import UsageRow, write_usage_batch
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
        await write_usage_batch(self.connection, rows)

    def tenant(self, organization: str) -> Metadata:
        token = mint_token(
            self.service.settings.secret,
            organization_id=organization,
            project_id=PROJECT,
            user_id="alice",
        )
        return (("authorization", f"Bearer {token}"),)

    def operator(self) -> Metadata:
        return self.service.operator_auth()


# What a record a test builds holds unless it says otherwise (counts left out are unreported).
_REQUIRED = ("occurred_at", "organization_id", "project_id", "provider", "operation")
_UNSAID: dict[str, object] = {
    "credential_id": "",
    "route_id": "",
    "model": "",
    "voice": "",
    "outcome": "ok",
    "duration_seconds": 0.25,
    "provider_request_id": "",
    "cost_micros": Decimal(0),
    "unpriced": False,
}


def row_with(**fields: object) -> UsageRow:
    """The writer's row from the fields a test names (`_REQUIRED` at least), with a new id."""
    missing = [name for name in _REQUIRED if name not in fields]
    unknown = fields.keys() - set(UsageRow._fields)
    if missing or unknown:
        raise TypeError(f"row_with: missing {missing}, unknown {sorted(unknown)}")
    values = {"id": uuid.uuid4(), **_UNSAID, **fields}
    return UsageRow._make(values.get(name) for name in UsageRow._fields)


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
            row_with(
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


def sums_of(rows: Iterable[UsageRow]) -> UsageSums:
    """The sums the service must answer for `rows`, added up from the rows alone."""
    sums = UsageSums()
    for row in rows:
        sums.calls += 1
        sums.failed_calls += row.outcome != "ok"
        sums.unpriced_calls += row.unpriced
        for name in SUMMED_COLUMNS:
            setattr(sums, name, getattr(sums, name) + (getattr(row, name) or 0))
    return sums


def expected_groups(
    rows: Iterable[UsageRow], key: Callable[[UsageRow], tuple[str, ...]]
) -> dict[tuple[str, ...], UsageSums]:
    groups: dict[tuple[str, ...], list[UsageRow]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return {group: sums_of(members) for group, members in sorted(groups.items())}


def day_of(row: UsageRow) -> str:
    return row.occurred_at.astimezone(UTC).date().isoformat()


def within(rows: Iterable[UsageRow], start: datetime, end: datetime) -> list[UsageRow]:
    return [row for row in rows if start <= row.occurred_at < end]
