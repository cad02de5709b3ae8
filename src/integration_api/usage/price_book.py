"""The price table in memory: what prices each record, without a query on any request path.

At start the book seeds the shipped defaults (each provider and model with no row yet) and
loads the whole table, retrying until the database answers; then it reloads every
`refresh_seconds` (15 s, for listings and idle processes). The process that sets a price reloads
at once. `cost` reads the table last loaded: a reload replaces it whole, so a record never waits.

Pricing does not wait for the periodic reload: before the ledger prices a batch it calls
`fresh_for` with the newest start in it. A table loaded after that start (by the database's
clock) is used as it is; otherwise one probe reads the table's largest id (the table is
append-only, so that id names its content) and the table is reloaded only if it changed. A new
price is in force at least 1 s after it is set (`MIN_LEAD`), which covers its commit becoming
visible and clock skew up to 1 s between the replicas and the database: every replica prices
with it from its first instant. Under steady traffic the probe runs at most once per flush.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from prometheus_client import Counter, Gauge

from integration_api.background import BackgroundTask
from integration_api.database import Database
from integration_api.errors import Unavailable
from integration_api.store.database import database_unreachable
from integration_api.store.usage_prices import (
    DEFAULT_SOURCE,
    NewPrice,
    PriceRepository,
    TableState,
)
from integration_api.usage.ports import Cost
from integration_api.usage.pricing import PriceTable, ShippedPrice
from integration_api.usage.record import UsageRecord

log = structlog.get_logger("integration_api.usage.prices")

DEFAULTS_ACTOR = "service:defaults"
REFRESH_SECONDS = 15.0
# While the database has not answered yet at start.
RETRY_SECONDS = 1.0

PRICE_RELOADS = Counter(
    "integration_api_usage_price_reloads",
    "Reloads of the price table from the database, by outcome (ok, failed).",
    ["outcome"],
)
PRICE_PROBES = Counter(
    "integration_api_usage_price_probes",
    "Probes of the price table before pricing a batch, by outcome (unchanged, changed: the "
    "table was reloaded, failed: the batch was priced with the table held).",
    ["outcome"],
)
PRICE_VERSIONS = Gauge(
    "integration_api_usage_price_versions",
    "Price versions held in memory (every provider, model and version), as last loaded.",
    multiprocess_mode="livemostrecent",
)


def seeded(defaults: Sequence[ShippedPrice]) -> list[NewPrice]:
    """The rows the shipped defaults become."""
    return [
        NewPrice(
            provider=item.provider,
            model=item.model,
            amounts=item.amounts,
            effective_from=item.effective_from,
            source=DEFAULT_SOURCE,
            set_by=DEFAULTS_ACTOR,
            note=item.note,
        )
        for item in defaults
    ]


def _unreachable(error: Exception) -> bool:
    return isinstance(error, Unavailable) or database_unreachable(error)


class PriceBook:
    """The `Pricer` of the ledger."""

    def __init__(
        self,
        database: Database,
        defaults: Sequence[ShippedPrice] = (),
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self._database = database
        self._defaults = seeded(defaults)
        self._refresh_seconds = refresh_seconds
        self._table = PriceTable(())
        self._state: TableState | None = None
        # One load or probe at a time, so a slower one never replaces a newer table.
        self._load_lock = asyncio.Lock()
        self._task = BackgroundTask(self._run, "price-book")
        self._ready = asyncio.Event()
        self._first_load_lock = asyncio.Lock()

    @property
    def table(self) -> PriceTable:
        return self._table

    @property
    def loaded(self) -> bool:
        """Whether the table has been loaded at least once (not ready before)."""
        return self._ready.is_set()

    def cost(self, record: UsageRecord) -> Cost:
        return self._table.cost(record)

    async def seed_and_load(self) -> None:
        """Seeds the defaults the table lacks, then loads it; raises if the database fails."""
        repository = PriceRepository(self._database.pool)
        if self._defaults:
            written = await repository.seed(self._defaults)
            if written:
                log.info("default prices seeded", written=written)
        await self.reload()

    @property
    def loaded_at(self) -> float | None:
        """When (database clock, seconds since the epoch) the table held was known current."""
        return None if self._state is None else self._state.read_at.timestamp()

    async def reload(self) -> None:
        async with self._load_lock:
            await self._load()

    async def _load(self) -> None:
        rows, state = await PriceRepository(self._database.pool).every_version()
        self._table = PriceTable(rows)
        self._state = state
        PRICE_VERSIONS.set(len(rows))
        self._ready.set()

    async def fresh_for(self, started_at: float) -> None:
        """Makes sure the table held was current when a record started at `started_at` (seconds
        since the epoch): nothing to do when it was loaded later, else one probe, and a reload
        only if the table changed. Never raises: when the database cannot answer, the table
        held prices the batch (the periodic reload keeps it at most `refresh_seconds` old)."""
        if self._current_at(started_at):
            return
        async with self._load_lock:
            if self._current_at(started_at):
                return
            try:
                probe = await PriceRepository(self._database.pool).state()
                if self._state is not None and probe.latest_id == self._state.latest_id:
                    self._state = probe
                    PRICE_PROBES.labels("unchanged").inc()
                else:
                    await self._load()
                    PRICE_PROBES.labels("changed").inc()
            except Exception as error:  # noqa: BLE001 - pricing goes on with the table held
                PRICE_PROBES.labels("failed").inc()
                log.warning("probing prices failed", error_type=type(error).__name__)

    def _current_at(self, started_at: float) -> bool:
        loaded_at = self.loaded_at
        return loaded_at is not None and loaded_at >= started_at

    async def wait_loaded(self) -> None:
        await self._ready.wait()

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    async def not_ready_reason(self) -> str | None:
        """A readiness check: no call is served before the prices are known. It loads them
        itself when they are not yet (right after the database check first reached it), so
        the service is ready as soon as the database is. A database out of reach is the
        database check's to report, once; anything else is this check's."""
        if self.loaded:
            return None
        error = await self._first_load()
        if error is None or _unreachable(error):
            return None
        return f"the price table could not be loaded ({type(error).__name__})"

    async def _first_load(self) -> Exception | None:
        """Seeds and loads unless loaded already; returns what failed, if anything."""
        async with self._first_load_lock:
            if self.loaded:
                return None
            try:
                await self.seed_and_load()
            except Exception as error:  # noqa: BLE001 - retried until the database answers
                PRICE_RELOADS.labels("failed").inc()
                if not _unreachable(error):
                    log.warning("loading prices failed", error_type=type(error).__name__)
                return error
            PRICE_RELOADS.labels("ok").inc()
            return None

    async def _run(self) -> None:
        while not self.loaded:
            await self._first_load()
            if not self.loaded:
                await asyncio.sleep(RETRY_SECONDS)
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self.reload()
                PRICE_RELOADS.labels("ok").inc()
            except Exception as error:  # noqa: BLE001 - the table last loaded stays in use
                PRICE_RELOADS.labels("failed").inc()
                log.warning("reloading prices failed", error_type=type(error).__name__)
