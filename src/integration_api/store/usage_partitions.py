"""The monthly partitions of usage_records: created ahead of need, dropped past retention.

Any replica may run `maintain_partitions`; a transaction-scoped advisory lock lets one at a
time do the work and the others skip it (they find it done on their next round). A partition is
created as a plain table, given whatever rows the default partition caught for its month, then
attached: creating it directly would fail as soon as the default partition held such a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from integration_api.store.database import advisory_key

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool, DatabaseConnection

LOCK = advisory_key("integration-api/usage-partitions")
_NAME = re.compile(r"usage_records_(\d{4})_(\d{2})")


@dataclass(frozen=True)
class PartitionWork:
    """What one round did; `skipped` when another replica held the lock."""

    created: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    skipped: bool = False


def month_start(day: date, months_later: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months_later
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"usage_records_{month.year:04d}_{month.month:02d}"


def _instant(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


async def maintain_partitions(
    pool: ConnectionPool,
    *,
    months_ahead: int = 2,
    retention_months: int = 13,
    today: date | None = None,
) -> PartitionWork:
    """Ensures this month's partition and `months_ahead` more, and drops those whose month ended
    `retention_months` or more months ago (0 keeps everything). usage_hourly is never touched."""
    current = month_start(today or datetime.now(UTC).date())
    async with pool.acquire() as connection, connection.transaction():
        # Waits for no one: a partition DDL queued behind a long query would stall every writer.
        await connection.execute("SET LOCAL lock_timeout = '5s'")
        if not await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", LOCK):
            return PartitionWork(skipped=True)
        existing = {
            row["name"]
            for row in await connection.fetch(
                "SELECT child.relname AS name FROM pg_inherits"
                " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
                " JOIN pg_class parent ON parent.oid = pg_inherits.inhparent"
                " WHERE parent.relname = 'usage_records'"
            )
        }
        created = []
        for offset in range(months_ahead + 1):
            month = month_start(current, offset)
            name = partition_name(month)
            if name not in existing:
                await _create(connection, name, month)
                created.append(name)
        dropped = []
        if retention_months > 0:
            oldest_kept = month_start(current, -(retention_months - 1))
            for name in sorted(existing):
                matched = _NAME.fullmatch(name)
                if matched is None:
                    continue
                if date(int(matched[1]), int(matched[2]), 1) < oldest_kept:
                    await connection.execute(f'DROP TABLE "{name}"')
                    dropped.append(name)
            await connection.execute(
                "DELETE FROM usage_records_default WHERE occurred_at < $1", _instant(oldest_kept)
            )
    return PartitionWork(created=tuple(created), dropped=tuple(dropped))


async def _create(connection: DatabaseConnection, name: str, month: date) -> None:
    start, end = _instant(month), _instant(month_start(month, 1))
    execute = connection.execute
    await execute(f'CREATE TABLE "{name}" (LIKE usage_records INCLUDING DEFAULTS)')
    # The name is made from a date here, never from input.
    moved = (
        "WITH moved AS (DELETE FROM usage_records_default"  # noqa: S608
        " WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)"
        f' INSERT INTO "{name}" SELECT * FROM moved'
    )
    await execute(moved, start, end)
    # Bounds are literals in DDL; they come from dates computed here, never from input.
    await execute(
        f'ALTER TABLE usage_records ATTACH PARTITION "{name}"'
        f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )
