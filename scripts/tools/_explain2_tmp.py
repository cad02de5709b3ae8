import asyncio, sys, time, os
from datetime import UTC, datetime, timedelta
import asyncpg
from integration_api.store.usage_queries import _sums_statement, UsageQuery, _SUMS_SETTINGS
async def main():
    c = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/query_scratch_usage")
    first = datetime(2026,11,6,18,tzinfo=UTC); last = first + timedelta(hours=720)
    q = UsageQuery(start=first, end=last, tenant=None)
    stmt, args = _sums_statement(q, sys.argv[1].split(","), 10001)
    stmt = os.environ.get("REPL_FROM","@@") in stmt and stmt.replace(os.environ["REPL_FROM"], os.environ["REPL_TO"]) or stmt
    async with c.transaction():
        await c.execute(_SUMS_SETTINGS)
        for _ in range(4):
            t=time.perf_counter(); await c.fetch(stmt, *args); print("ms", (time.perf_counter()-t)*1000)
        if "-x" in sys.argv:
            for row in await c.fetch("EXPLAIN (ANALYZE) " + stmt, *args): print(row[0])
asyncio.run(main())
