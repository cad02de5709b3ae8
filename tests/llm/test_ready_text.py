"""Text deltas ready together leave as one; nothing waits to be merged, nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from integration_api.errors import Unavailable
from integration_api.llm.contract import (
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamPart,
    TextDelta,
    Usage,
)
from integration_api.llm.ready_text import MAX_JOINED_CHARACTERS, ReadyTextMerger
from integration_api.upstream.timer import UpstreamTimer

FINISH = Finish(reason=FinishReason.STOP, raw_reason="stop", model="m", provider_request_id="r")


class Upstream:
    """An adapter's stream whose parts become ready when the test releases them."""

    def __init__(self, *parts: StreamPart | asyncio.Event | Exception) -> None:
        self._parts = parts
        self.cleaned_up = asyncio.Event()

    async def stream(self) -> AsyncIterator[StreamPart]:
        try:
            for part in self._parts:
                if isinstance(part, asyncio.Event):
                    await part.wait()
                elif isinstance(part, Exception):
                    raise part
                else:
                    yield part
        finally:
            # Clean-up that itself waits, as releasing a connection does.
            await asyncio.sleep(0)
            self.cleaned_up.set()


async def drain(merger: ReadyTextMerger, first: StreamPart) -> list[StreamPart]:
    parts = [merger.with_ready_text(first)]
    while not isinstance(parts[-1], Finish):
        parts.append(await merger.next_part())
    return parts


async def first_and_merger(upstream: Upstream) -> tuple[StreamPart, ReadyTextMerger]:
    parts = upstream.stream()
    return await anext(parts), ReadyTextMerger(parts, UpstreamTimer())


async def test_text_that_is_ready_together_leaves_as_one_delta() -> None:
    usage = Usage(input_tokens=1, output_tokens=3)
    first, merger = await first_and_merger(
        Upstream(TextDelta("Hel"), TextDelta("lo"), TextDelta("!"), usage, FINISH)
    )

    assert await drain(merger, first) == [TextDelta("Hello!"), usage, FINISH]


async def test_a_flood_of_ready_text_is_joined_only_up_to_a_bound() -> None:
    piece = "x" * 1000
    count = 3 * MAX_JOINED_CHARACTERS // len(piece)
    first, merger = await first_and_merger(
        Upstream(*[TextDelta(piece) for _ in range(count)], FINISH)
    )

    parts = await drain(merger, first)

    texts = [part.text for part in parts if isinstance(part, TextDelta)]
    assert "".join(texts) == piece * count
    assert 3 <= len(texts) <= 4
    assert all(len(text) <= MAX_JOINED_CHARACTERS + len(piece) for text in texts)


async def test_text_is_not_held_back_for_text_that_is_not_there_yet() -> None:
    more = asyncio.Event()
    upstream = Upstream(TextDelta("Hel"), more, TextDelta("lo"), FINISH)
    first, merger = await first_and_merger(upstream)

    # The part in hand is handed out at once, while the next one is still awaited.
    assert merger.with_ready_text(first) == TextDelta("Hel")
    later = asyncio.get_running_loop().create_task(merger.next_part())
    await asyncio.sleep(0.01)
    assert not later.done()
    more.set()

    assert await later == TextDelta("lo")
    assert await merger.next_part() == FINISH


async def test_only_text_is_merged_and_every_other_part_keeps_its_place() -> None:
    signed = ReasoningDelta(text="b", signature="sig")
    usage = Usage(input_tokens=1, output_tokens=2)
    first, merger = await first_and_merger(
        Upstream(ReasoningDelta(text="a"), signed, TextDelta("x"), usage, TextDelta("y"), FINISH)
    )

    assert await drain(merger, first) == [
        ReasoningDelta(text="a"),
        signed,
        TextDelta("x"),
        usage,
        TextDelta("y"),
        FINISH,
    ]


async def test_an_error_after_ready_text_comes_after_that_text() -> None:
    broken = Unavailable("the stream broke", reason="STREAM_ERROR", provider="openai")
    first, merger = await first_and_merger(Upstream(TextDelta("a"), TextDelta("b"), broken))

    assert merger.with_ready_text(first) == TextDelta("ab")
    with pytest.raises(Unavailable) as raised:
        await merger.next_part()
    assert raised.value is broken


async def test_an_end_without_finish_after_ready_text_comes_after_that_text() -> None:
    first, merger = await first_and_merger(Upstream(TextDelta("a"), TextDelta("b")))

    assert merger.with_ready_text(first) == TextDelta("ab")
    with pytest.raises(StopAsyncIteration):
        await merger.next_part()


async def test_closing_with_a_step_in_suspense_runs_the_adapters_clean_up() -> None:
    never = asyncio.Event()
    upstream = Upstream(TextDelta("a"), never, TextDelta("b"), FINISH)
    first, merger = await first_and_merger(upstream)
    merger.with_ready_text(first)

    await merger.aclose()

    assert upstream.cleaned_up.is_set()


async def test_a_cancelled_caller_ends_a_resumed_step_with_its_clean_up() -> None:
    never = asyncio.Event()
    upstream = Upstream(TextDelta("a"), never, FINISH)
    first, merger = await first_and_merger(upstream)
    merger.with_ready_text(first)
    waiting = asyncio.get_running_loop().create_task(merger.next_part())
    await asyncio.sleep(0.01)

    waiting.cancel()

    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert upstream.cleaned_up.is_set()


async def test_time_spent_on_the_caller_while_a_read_is_suspended_is_not_upstream_time() -> None:
    more = asyncio.Event()
    parts = Upstream(TextDelta("a"), more, TextDelta("b"), FINISH).stream()
    timer = UpstreamTimer()
    merger = ReadyTextMerger(parts, timer)
    merger.with_ready_text(await anext(parts))

    await asyncio.sleep(0.05)  # the service sends "a" to a slow caller meanwhile
    more.set()
    await merger.next_part()

    assert timer.caller_time >= 0.05
