"""What a routed speech call keeps of the caller's stream, and hands to the next target."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from integration_api.errors import InvalidArgument
from integration_api.routes.speech_replay import ReplayableInputs


async def caller(
    items: list[bytes | str], error: Exception | None = None
) -> AsyncIterator[bytes | str]:
    for item in items:
        yield item
    if error is not None:
        raise error


def replayable(
    items: list[bytes | str], limit: int = 100, error: Exception | None = None
) -> ReplayableInputs[bytes | str]:
    return ReplayableInputs(
        caller(items, error),
        size=lambda item: len(item) if isinstance(item, bytes) else 0,
        limit=limit,
        owes=lambda item: item == "finalize",
    )


async def take(feed: AsyncIterator[bytes | str], count: int) -> list[bytes | str]:
    return [await anext(feed) for _ in range(count)]


async def test_a_next_target_gets_what_the_first_took_then_the_rest() -> None:
    inputs = replayable([b"a", b"b", b"c", b"d"])
    first = aiter(inputs.feed())
    assert await take(first, 2) == [b"a", b"b"]
    second = [item async for item in inputs.feed()]
    assert second == [b"a", b"b", b"c", b"d"]
    await inputs.close()


async def test_the_end_of_the_callers_stream_is_replayed_too() -> None:
    inputs = replayable([b"a"])
    assert [item async for item in inputs.feed()] == [b"a"]
    assert [item async for item in inputs.feed()] == [b"a"]
    await inputs.close()


async def test_the_callers_own_error_reaches_every_target() -> None:
    inputs = replayable([b"a"], error=InvalidArgument.for_field("config", "only once"))
    for _ in range(2):
        with pytest.raises(InvalidArgument):
            _ = [item async for item in inputs.feed()]
    await inputs.close()


async def test_past_the_bound_nothing_is_kept_and_the_call_cannot_move_on() -> None:
    inputs = replayable([b"12345", b"67890", b"x"], limit=8)
    feed = aiter(inputs.feed())
    await take(feed, 1)
    assert inputs.replayable and inputs.history == [b"12345"]
    await take(feed, 1)
    assert not inputs.replayable and inputs.history == []
    await inputs.close()


async def test_after_the_first_content_nothing_is_kept() -> None:
    inputs = replayable([b"a", b"b"])
    feed = aiter(inputs.feed())
    await take(feed, 1)
    inputs.commit()
    await take(feed, 1)
    assert not inputs.replayable and inputs.history == []
    await inputs.close()


async def test_an_answer_is_owed_from_a_finalize_or_the_end_of_the_stream() -> None:
    inputs = replayable([b"a", "finalize", b"b"])
    feed = inputs.feed()
    seen: list[float] = []
    feed.when_owed(seen.append)
    items = aiter(feed)
    await take(items, 1)
    assert feed.owed_at is None and not seen
    await take(items, 1)
    assert feed.owed_at is not None and seen == [feed.owed_at]
    # A next target replaying the finalize owes its answer from the replay on.
    again = inputs.feed()
    await take(aiter(again), 2)
    assert again.owed_at is not None
    plain = replayable([b"a"])
    ended = plain.feed()
    _ = [item async for item in ended]
    assert ended.owed_at is not None
    await inputs.close()
    await plain.close()


async def test_a_target_cancelled_mid_read_leaves_the_callers_stream_whole() -> None:
    gate = asyncio.Event()

    async def slow_caller() -> AsyncIterator[bytes | str]:
        yield b"a"
        await gate.wait()
        yield b"b"

    inputs: ReplayableInputs[bytes | str] = ReplayableInputs(
        slow_caller(), size=len, limit=100, owes=lambda _item: False
    )
    first = aiter(inputs.feed())
    await take(first, 1)
    waiting = asyncio.ensure_future(anext(first))
    await asyncio.sleep(0.01)
    waiting.cancel()
    gate.set()
    assert [item async for item in inputs.feed()] == [b"a", b"b"]
    await inputs.close()
