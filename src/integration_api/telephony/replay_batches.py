"""Redis `SET key NX PX` for many callers at once: the calls that arrive together go in one
pipeline, one round trip.

Under load most of what a Redis command costs the process is the client's own work per round
trip (taking a connection, writing, reading, waking the caller), not the command: webhooks
validated together share it. A batch is sent once the callers already waiting to run have
added their keys (the event loop's next turn), so a lone call waits for nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import redis.asyncio as redis
from redis.exceptions import RedisError


class BatchFailed(Exception):
    """Redis did not answer the batch (the caller falls back); carries the error's type name."""


@dataclass(frozen=True)
class _Pending:
    key: str
    milliseconds: int
    answer: asyncio.Future[bool]


class SetIfAbsentBatches:
    """Sends `SET key 1 NX PX ms` in pipelines of the calls that arrive together."""

    def __init__(self, client: redis.Redis, max_connections: int = 50) -> None:
        self._client = client
        # A burst of batches waits its turn for one of the client's connections instead of
        # failing for want of one (which would look like an outage).
        self._gate = asyncio.Semaphore(max(1, max_connections))
        self._pending: list[_Pending] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def set_if_absent(self, key: str, milliseconds: int) -> bool:
        """True when the key was absent (and is now set for `milliseconds`).

        Raises:
            BatchFailed: Redis did not answer.
        """
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._send_pending)
        self._pending.append(_Pending(key, milliseconds, answer))
        return await answer

    def _send_pending(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[_Pending]) -> None:
        try:
            async with self._gate:
                pipeline = self._client.pipeline(transaction=False)
                for pending in batch:
                    pipeline.set(pending.key, b"1", nx=True, px=pending.milliseconds)
                results = await pipeline.execute(raise_on_error=True)
        except (RedisError, OSError) as error:
            for pending in batch:
                if not pending.answer.done():
                    pending.answer.set_exception(BatchFailed(type(error).__name__))
            return
        for pending, result in zip(batch, results, strict=True):
            if not pending.answer.done():
                pending.answer.set_result(bool(result))

    async def close(self) -> None:
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
