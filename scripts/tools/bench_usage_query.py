"""`scripts/bench --usage-query`: GetUsage over a month of records at 100 calls a second.

Starts the service (`bench_service.py`, on a fresh database), then lays down a month in the
shape the ledger leaves it: `usage_hourly` rows for 30 days (tens of tenants, a few credentials
each, each credential calling a few models and operations) and, for the first and last hour,
the raw records themselves, 360,000 an hour (100 a second), written with their hourly sums by
the ledger's own writer. The range asked starts and ends inside those hours, so every answer
reads a month of hourly rows plus most of two hours of records. Each grouping, and day x
tenant, is asked for every tenant and for one tenant, through gRPC; p50 and max of the round
trip are printed. Target: well under a second.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import grpc.aio
from integration_api_proto.integration.v1 import (
    ExportUsageRequest,
    GetUsageRequest,
    UsageFilter,
    UsageGrouping,
)
from integration_api_proto.integration.v1.grpc_aio import OperationsServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.store.usage_columns import HOURLY_KEY, HOURLY_SUMS
from integration_api.store.usage_records import UsageRow, write_usage_batch
from integration_api.usage.rows import new_ids
from integration_api.vault import generate_key
from scripts.tools.bench_processes import child, fresh_database
from scripts.tools.bench_report import machine

TARGET_SECONDS = 1.0
CALLS_PER_SECOND = 100
DAYS = 30
TENANTS = 40
CREDENTIALS_PER_TENANT = 3
COMBINATIONS_PER_CREDENTIAL = 4
PROVIDERS = {
    "provider-a": ["chat-large", "chat-small", "chat-mini", "embed-3"],
    "provider-b": ["sonnet", "haiku"],
    "provider-c": ["nova-3", "aura-voice"],
    "provider-d": ["voice-multilingual"],
}
OPERATIONS = {
    "chat-large": "chat",
    "chat-small": "chat",
    "chat-mini": "chat",
    "embed-3": "embed",
    "sonnet": "chat",
    "haiku": "chat",
    "nova-3": "transcribe",
    "aura-voice": "synthesize",
    "voice-multilingual": "synthesize_stream",
}

Key = tuple[str, str, str, str, str, str, str, float]


def keys(rng: random.Random) -> list[Key]:
    """(organization, project, credential, route, provider, model, operation, weight)."""
    catalogue = [(provider, model) for provider, models in PROVIDERS.items() for model in models]
    result = []
    for tenant in range(TENANTS):
        # A few large tenants, many small ones.
        tenant_weight = 1 / (tenant + 1)
        for credential in range(CREDENTIALS_PER_TENANT):
            for provider, model in rng.sample(catalogue, COMBINATIONS_PER_CREDENTIAL):
                route = "route-main" if rng.random() < 0.1 else ""
                result.append(
                    (
                        f"org-{tenant:02}",
                        "p1",
                        f"cred-{tenant:02}-{credential}",
                        route,
                        provider,
                        model,
                        OPERATIONS[model],
                        tenant_weight * rng.uniform(0.2, 1.0),
                    )
                )
    return result


_PARTITION = """
CREATE TABLE IF NOT EXISTS usage_records_{suffix} PARTITION OF usage_records
    FOR VALUES FROM ('{start}') TO ('{end}')
"""


def months(first: datetime, last: datetime) -> list[datetime]:
    """The first instants of the UTC months from `first`'s to `last`'s."""
    month = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    result = []
    while month <= last:
        result.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return result


# Whole hours: each key's share of 360,000 calls, with token, audio and cost sums in proportion.
# Written straight into usage_hourly by one statement, not as records through the writer: a
# month of records would be 260 million rows (hours to write); the month's hourly rows are the
# only thing a query reads of it, so their sums may as well be made up in proportion here.
_HOURLY = f"""
INSERT INTO usage_hourly ({", ".join((*HOURLY_KEY, *HOURLY_SUMS))})
SELECT hour, k.organization_id, k.project_id, k.credential_id, k.route_id, k.provider, k.model,
    k.operation, c.calls, c.calls / 50, 0,
    CASE WHEN k.operation IN ('chat', 'embed') THEN c.calls * 900 ELSE 0 END,
    CASE WHEN k.operation = 'chat' THEN c.calls * 200 ELSE 0 END, 0,
    CASE WHEN k.operation = 'chat' THEN c.calls * 300 ELSE 0 END, 0,
    CASE WHEN k.operation = 'transcribe' THEN c.calls * 12.5 ELSE 0 END,
    CASE WHEN k.operation LIKE 'synthesize%' THEN c.calls * 6.25 ELSE 0 END,
    CASE WHEN k.operation LIKE 'synthesize%' THEN c.calls * 140 ELSE 0 END, 0,
    c.calls * 0.8, c.calls * 1234.567891
FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 hour', interval '1 hour')
    AS hour,
    bench_keys AS k,
    LATERAL (SELECT greatest(1, round($3 * k.weight / (SELECT sum(weight) FROM bench_keys)))::bigint
             AS calls) AS c
"""

# Records handed to the ledger's writer at once.
_BATCH = 5000


def hour_of_records(hour: datetime, count: int, keys: Sequence[Key]) -> Iterator[UsageRow]:
    """`count` records of the hour from `hour`, evenly spaced, each key in turn."""
    spacing = timedelta(hours=1) / count
    for i, row_id in enumerate(new_ids(count)):
        organization, project, credential, route, provider, model, operation, _ = keys[
            i % len(keys)
        ]
        chat = operation == "chat"
        synthesis = operation.startswith("synthesize")
        yield UsageRow(
            hour + i * spacing,
            row_id,
            organization,
            project,
            credential,
            route,
            0 if route else None,
            provider,
            model,
            "",
            operation,
            "unavailable" if i % 50 == 0 else "ok",
            600 + i % 600 if operation in ("chat", "embed") else None,
            i % 400 if chat else None,
            None,
            100 + i % 400 if chat else None,
            None,
            5 + (i % 150) / 10 if operation == "transcribe" else None,
            2 + (i % 90) / 10 if synthesis else None,
            40 + i % 200 if synthesis else None,
            None,
            0.2 + (i % 30) / 10,
            f"req-{i}",
            Decimal(i % 5000) * Decimal("0.731") + Decimal("0.000001"),
            None,
            False,
        )


async def generate(dsn: str, first_hour: datetime, rng: random.Random) -> dict[str, int]:
    """A month of usage from `first_hour`: hourly rows, and raw records for the edge hours."""
    hours = DAYS * 24
    per_hour = CALLS_PER_SECOND * 3600
    last_hour = first_hour + timedelta(hours=hours - 1)
    connection = await asyncpg.connect(dsn)
    try:
        # Partitions of the month's months, as the service keeps them ahead of need.
        for month in months(first_hour, last_hour):
            following = (month + timedelta(days=32)).replace(day=1)
            await connection.execute(
                _PARTITION.format(
                    suffix=month.strftime("%Y_%m"),
                    start=month.isoformat(),
                    end=following.isoformat(),
                )
            )
        await connection.execute(
            "CREATE TEMPORARY TABLE bench_keys (position int, organization_id text,"
            " project_id text, credential_id text, route_id text, provider text, model text,"
            " operation text, weight float8)"
        )
        chosen = keys(rng)
        await connection.copy_records_to_table(
            "bench_keys",
            records=[(index, *key) for index, key in enumerate(chosen)],
        )
        await connection.execute(_HOURLY, first_hour + timedelta(hours=1), last_hour, per_hour)
        # The edge hours' records and their hourly sums, as the ledger writes them.
        for hour in (first_hour, last_hour):
            records = list(hour_of_records(hour, per_hour, chosen))
            for at in range(0, len(records), _BATCH):
                await write_usage_batch(connection, records[at : at + _BATCH])
        await connection.execute("ANALYZE usage_hourly")
        await connection.execute("ANALYZE usage_records")
        counts = {
            "keys": await connection.fetchval("SELECT count(*) FROM bench_keys"),
            "hourly rows": await connection.fetchval("SELECT count(*) FROM usage_hourly"),
            "raw records": await connection.fetchval("SELECT count(*) FROM usage_records"),
            "calls": await connection.fetchval("SELECT sum(calls) FROM usage_hourly"),
        }
        return {name: int(value) for name, value in counts.items()}
    finally:
        await connection.close()


CASES: list[tuple[str, list[UsageGrouping]]] = [
    ("none", []),
    ("tenant", [UsageGrouping.TENANT]),
    ("credential", [UsageGrouping.CREDENTIAL]),
    ("provider", [UsageGrouping.PROVIDER]),
    ("model", [UsageGrouping.MODEL]),
    ("operation", [UsageGrouping.OPERATION]),
    ("day", [UsageGrouping.DAY]),
    ("day x tenant", [UsageGrouping.DAY, UsageGrouping.TENANT]),
]


async def measure(
    stub: OperationsServiceStub,
    metadata: tuple[tuple[str, str], ...],
    selection: UsageFilter,
    group_by: list[UsageGrouping],
    repeats: int,
) -> tuple[list[float], int, int]:
    """Round-trip seconds of each GetUsage, the groups answered and the calls summed."""
    request = GetUsageRequest(filter=selection, group_by=group_by)
    await stub.get_usage(request, metadata=metadata)  # warm the statement and the caches
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = await stub.get_usage(request, metadata=metadata)
        timings.append(time.perf_counter() - started)
    assert answer.total is not None
    return timings, len(answer.groups), answer.total.calls


async def measure_export(
    stub: OperationsServiceStub, metadata: tuple[tuple[str, str], ...], hour: datetime
) -> tuple[int, float]:
    """ExportUsage of one hour of raw records (every tenant): lines and seconds."""
    request = ExportUsageRequest(
        filter=UsageFilter(start_time=hour, end_time=hour + timedelta(hours=1))
    )
    started = time.perf_counter()
    lines = 0
    async for _ in stub.export_usage(request, metadata=metadata):
        lines += 1
    return lines, time.perf_counter() - started


async def run(arguments: argparse.Namespace) -> None:
    started = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    rng = random.Random(arguments.seed)
    # The month ends at the last whole hour; its first and last hours hold raw records.
    last_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    first_hour = last_hour - timedelta(hours=DAYS * 24 - 1)
    secret = secrets.token_urlsafe(48)
    environment = {"SECRET": secret, "INTEGRATION_CRYPTO_KEY": generate_key()}
    operator = mint_token(
        secret,
        organization_id="ops",
        project_id="ops",
        subject="bench",
        operator=True,
        ttl=timedelta(hours=2),
    )
    metadata = (("authorization", f"Bearer {operator}"),)
    start = first_hour + timedelta(minutes=1, seconds=23, microseconds=456789)
    end = last_hour + timedelta(minutes=58, seconds=41, microseconds=200000)
    async with (
        fresh_database() as dsn,
        child("bench_service.py", ["--dsn", dsn, "--log-level", "warning"], environment) as service,
    ):
        print("generating a month of usage …", file=sys.stderr)
        generating = time.perf_counter()
        counts = await generate(dsn, first_hour, rng)
        generated_in = time.perf_counter() - generating
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.port}")
        rows = []
        try:
            stub = OperationsServiceStub(channel)
            for scope, selection in (
                ("every tenant", UsageFilter(start_time=start, end_time=end)),
                (
                    "one tenant (org-00)",
                    UsageFilter(
                        start_time=start, end_time=end, organization_id="org-00", project_id="p1"
                    ),
                ),
                (
                    "every tenant, whole hours",
                    UsageFilter(start_time=first_hour, end_time=last_hour + timedelta(hours=1)),
                ),
            ):
                for name, group_by in CASES:
                    print(f"GetUsage {scope}, by {name}", file=sys.stderr)
                    timings, groups, calls = await measure(
                        stub, metadata, selection, group_by, arguments.repeats
                    )
                    rows.append((scope, name, groups, calls, timings))
            print("ExportUsage of the last hour", file=sys.stderr)
            exported, export_seconds = await measure_export(stub, metadata, last_hour)
        finally:
            await channel.close()
    print(f"# integration-api usage query benchmark, {started}\n\n{machine()}\n")
    print(
        f"A month ({DAYS} days) at {CALLS_PER_SECOND} calls a second, generated in "
        f"{generated_in:.0f} s: {counts['calls']:,} calls as {counts['hourly rows']:,} hourly "
        f"rows ({counts['keys']} keys: {TENANTS} tenants x {CREDENTIALS_PER_TENANT} credentials "
        f"x {COMBINATIONS_PER_CREDENTIAL} models/operations) and {counts['raw records']:,} raw "
        f"records (the first and last hour). Range: {start.isoformat()} to {end.isoformat()} "
        f"(both ends inside an hour of raw records), unless whole hours. {arguments.repeats} "
        "GetUsage each, through gRPC, after one warm-up.\n"
    )
    print("| range | group by | groups | calls | p50 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for scope, name, groups, calls, timings in rows:
        print(
            f"| {scope} | {name} | {groups:,} | {calls:,} | "
            f"{statistics.median(timings) * 1000:.0f} | {max(timings) * 1000:.0f} |"
        )
    print(
        f"\nExportUsage of one hour of records (every tenant), read through gRPC by this "
        f"client: {exported:,} lines in {export_seconds:.1f} s "
        f"({exported / export_seconds:,.0f} records a second)."
    )
    worst = max(max(timings) for *_, timings in rows)
    verdict = "met" if worst < TARGET_SECONDS else "MISSED"
    print(f"\nTarget: under {TARGET_SECONDS:.0f} s: slowest {worst * 1000:.0f} ms: {verdict}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--usage-query", action="store_true", help="this benchmark (required)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
