import asyncio, sys, time
from datetime import UTC, datetime, timedelta
import asyncpg
from integration_api.store.usage_queries import _sums_statement, UsageQuery
from integration_api.principal import Tenant
async def main():
    c = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/query_scratch_usage")
    for s in sys.argv[2:]:
        if s.startswith("SET"): await c.execute(s)
    first = datetime(2026,11,6,18,tzinfo=UTC); last = first + timedelta(hours=719)
    q = UsageQuery(start=first+timedelta(minutes=1,seconds=23), end=last+timedelta(minutes=58), tenant=None)
    groups = sys.argv[1].split(",") if len(sys.argv) > 1 and sys.argv[1] else []
    stmt, args = _sums_statement(q, groups, 10001)
    for _ in range(int(__import__("os").environ.get("N","3"))):
        t=time.perf_counter(); await c.fetch(stmt, *args); print("ms", (time.perf_counter()-t)*1000)
    if "-x" in sys.argv:
        for row in await c.fetch("EXPLAIN (ANALYZE, BUFFERS) " + stmt, *args): print(row[0])
asyncio.run(main())
