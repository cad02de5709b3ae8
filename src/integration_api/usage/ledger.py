"""The usage ledger of one process: records queued in memory, written in batches by one task.

`record()` is on the request path: it appends to a bounded deque and, when a batch is ready,
wakes the flusher; nothing else (no I/O, no pricing, no id). The flusher takes up to
`batch_records` at a time, gives each record its id and its cost once (a batch written again
keeps both, so the store's ON CONFLICT finds the rows of a write whose acknowledgement was
lost), writes the batch in one statement, then tells the listeners. A failed write keeps the
batch and tries again after a backoff that doubles up to a bound; meanwhile records wait in
the buffer. When the buffer is full a record is dropped, counted, and the drops are logged as
one warning per flush round with their number: a loss is never silent. `close()` drains what
is left within the time it is given, and counts and logs what it could not write.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from integration_api.errors import Unavailable
from integration_api.store.database import database_unreachable
from integration_api.store.usage_records import UsageRow
from integration_api.usage import ledger_metrics as metrics
from integration_api.usage.ports import UNPRICED, Cost, Pricer, WrittenListener
from integration_api.usage.record import UsageRecord
from integration_api.usage.rows import new_ids, usage_row
from integration_api.usage.unpriced import UNPRICED_PRICER

log = structlog.get_logger("integration_api.usage.ledger")

# Writes rows and their hourly sums in one statement; returns how many rows were new.
BatchWriter = Callable[[Sequence[UsageRow]], Awaitable[int]]

BUFFER_FULL = "buffer_full"
SHUTDOWN = "shutdown"
REJECTED = "rejected"
# Records priced and made rows between two yields to the event loop.
_SLICE = 100


@dataclass(frozen=True)
class LedgerSettings:
    buffer_records: int = 100_000
    batch_records: int = 200
    flush_interval_seconds: float = 0.2
    retry_initial_seconds: float = 0.1
    retry_max_seconds: float = 5.0
    # A batch the database refuses for its content (not for being out of reach) is tried this
    # many times, then dropped and counted, so one bad row cannot stop every later record.
    max_rejections: int = 10


@dataclass(frozen=True, slots=True)
class _Priced:
    record: UsageRecord
    cost: Cost
    row: UsageRow


class BatchingLedger:
    def __init__(
        self,
        write: BatchWriter,
        pricer: Pricer = UNPRICED_PRICER,
        settings: LedgerSettings | None = None,
        listeners: Sequence[WrittenListener] = (),
        pricer_ready: Callable[[], Awaitable[None]] | None = None,
        pricer_fresh: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self._write = write
        self._pricer = pricer
        # Awaited before the first record is priced: a price table still loading would price
        # records as unpriced, and a record is priced once, for good.
        self._pricer_ready = pricer_ready
        # Awaited before each batch is priced, with the newest start in it: a price set on
        # another replica is in force from its effective_from on, not from the next reload.
        self._pricer_fresh = pricer_fresh
        self._settings = settings or LedgerSettings()
        self._listeners = list(listeners)
        self._buffer: deque[UsageRecord] = deque()
        # The batch being written: priced, with ids, kept as is until it is durable.
        self._batch: list[_Priced] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = False
        self._dropped_unlogged = 0
        self._batch_size = self._settings.batch_records
        self._capacity = self._settings.buffer_records

    # -- the request path ---------------------------------------------------------------------

    def record(self, record: UsageRecord) -> None:
        """Queues one record; never blocks, never raises (a loss is counted and logged)."""
        try:
            if self._closed or len(self._buffer) + len(self._batch) >= self._capacity:
                self._drop(BUFFER_FULL if not self._closed else SHUTDOWN)
                return
            self._buffer.append(record)
            if len(self._buffer) >= self._batch_size:
                self._wake.set()
        except Exception:  # noqa: BLE001 - the caller's call must never fail for its record
            self._drop(BUFFER_FULL)

    def _drop(self, reason: str) -> None:
        metrics.RECORDS_DROPPED.labels(reason).inc()
        self._dropped_unlogged += 1

    # -- what others may ask -------------------------------------------------------------------

    def add_listener(self, listener: WrittenListener) -> None:
        self._listeners.append(listener)

    @property
    def queued(self) -> int:
        return len(self._buffer) + len(self._batch)

    # -- the flusher ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="usage-ledger-flusher")

    async def _run(self) -> None:
        if self._pricer_ready is not None:
            await self._pricer_ready()
        interval = self._settings.flush_interval_seconds
        while True:
            if not self._closing and len(self._buffer) < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()
            await self._write_all()
            self._report()
            if self._closing and not self._buffer and not self._batch:
                return

    async def _write_all(self) -> None:
        """Writes what is queued (then further whole batches only, so that records arriving
        one by one are not written one by one); a failure waits, then tries again."""
        delay = self._settings.retry_initial_seconds
        rejections = 0
        first = True
        while self._batch or (
            self._buffer and (first or self._closing or len(self._buffer) >= self._batch_size)
        ):
            first = False
            if not self._batch:
                await self._take()
            try:
                await self._write_batch(self._batch)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - every failure keeps the batch
                metrics.FLUSH_FAILURES.inc()
                unreachable = isinstance(error, Unavailable | TimeoutError | OSError) or (
                    database_unreachable(error)
                )
                rejections = 0 if unreachable else rejections + 1
                log.warning(
                    "usage batch not written; kept to try again",
                    records=len(self._batch),
                    queued=self.queued,
                    error_type=type(error).__name__,
                    retry_in_seconds=round(delay, 3),
                )
                if rejections >= self._settings.max_rejections:
                    self._give_up_batch(error)
                    rejections = 0
                self._report()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._settings.retry_max_seconds)
                continue
            self._batch = []
            delay = self._settings.retry_initial_seconds
            rejections = 0

    async def _take(self) -> None:
        """Fills the batch: each record priced and given its id (once: retries reuse both).

        Records move from the buffer to the batch one by one, so they are counted (and bounded)
        at every instant; the event loop is handed back every `_SLICE` records, so that calls in
        flight never wait behind a whole batch's pricing.
        """
        count = min(self._batch_size, len(self._buffer))
        if self._pricer_fresh is not None and count:
            # Only this task takes from the buffer (others append): these are the batch's records.
            newest = max(record.started_at for record in itertools.islice(self._buffer, count))
            await self._pricer_fresh(newest)
        for index, row_id in enumerate(new_ids(count)):
            if index and index % _SLICE == 0:
                await asyncio.sleep(0)
            if not self._buffer:
                break
            record = self._buffer.popleft()
            cost = self._cost(record)
            self._batch.append(_Priced(record, cost, usage_row(record, cost, row_id)))

    def _cost(self, record: UsageRecord) -> Cost:
        try:
            return self._pricer.cost(record)
        except Exception as error:  # noqa: BLE001 - an unpriced record is better than none
            log.error("could not price a usage record", error_type=type(error).__name__)
            return UNPRICED

    async def _write_batch(self, batch: list[_Priced]) -> None:
        started = time.perf_counter()
        inserted = await self._write([priced.row for priced in batch])
        metrics.FLUSH_DURATION.observe(time.perf_counter() - started)
        metrics.RECORDS_WRITTEN.inc(inserted)
        written = [(priced.record, priced.cost) for priced in batch]
        for listener in self._listeners:
            try:
                listener(written)
            except Exception as error:  # noqa: BLE001 - a listener cannot undo a durable write
                log.error("a usage listener failed", error_type=type(error).__name__)

    def _give_up_batch(self, error: BaseException) -> None:
        lost = len(self._batch)
        metrics.RECORDS_DROPPED.labels(REJECTED).inc(lost)
        log.error(
            "usage batch refused by the database; dropped",
            records=lost,
            error_type=type(error).__name__,
        )
        self._batch = []

    def _report(self) -> None:
        metrics.RECORDS_QUEUED.set(self.queued)
        if self._dropped_unlogged:
            dropped, self._dropped_unlogged = self._dropped_unlogged, 0
            log.warning(
                "usage records dropped: the buffer was full",
                dropped=dropped,
                buffer_records=self._capacity,
            )

    # -- the drain -----------------------------------------------------------------------------

    async def close(self, within_seconds: float = 10.0) -> None:
        """Writes everything still queued, waiting at most `within_seconds`; what is left then
        is counted (dropped, reason shutdown) and logged."""
        if self._closed:
            return
        self._closing = True
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="usage-ledger-drain")
        task = self._task
        try:
            await asyncio.wait_for(asyncio.shield(task), within_seconds)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except Exception as error:  # noqa: BLE001 - the drain reports, it does not raise
            log.error("the usage flusher failed", error_type=type(error).__name__)
        self._closed = True
        lost = self.queued
        if lost:
            metrics.RECORDS_DROPPED.labels(SHUTDOWN).inc(lost)
            log.error(
                "usage records not written before shutdown",
                lost=lost,
                within_seconds=within_seconds,
            )
            self._buffer.clear()
            self._batch = []
        self._report()
        log.info("usage ledger closed", lost=lost)
