"""The benchmark's own tools: the floor speaks the contract, the stall figures keep to windows."""

from __future__ import annotations

from integration_api_proto.integration.v1 import ChatChunk, Finish, FinishReason, TextDelta, Usage

from scripts.tools.bench_floor import finish_chunk, text_chunk, usage_chunk
from scripts.tools.bench_stalls import window_figures


def test_the_floor_sends_the_messages_the_contract_defines() -> None:
    assert ChatChunk.parse(text_chunk(" word")) == ChatChunk(text_delta=TextDelta(text=" word"))
    usage = usage_chunk({"prompt_tokens": 12, "completion_tokens": 300})
    assert ChatChunk.parse(usage) == ChatChunk(usage=Usage(input_tokens=12, output_tokens=300))
    finish = ChatChunk.parse(finish_chunk("stop", "gpt-4o-mini"))
    assert finish == ChatChunk(
        finish=Finish(reason=FinishReason.STOP, raw_reason="stop", model="gpt-4o-mini")
    )


def test_stall_figures_count_only_what_fell_inside_the_measured_windows() -> None:
    samples: dict[str, list[float]] = {
        # A 40 ms lag and a gen-2 collection between the windows must not count.
        "lag_times": [1.0, 1.5, 2.0, 5.0, 10.0, 10.5],
        "lags": [0.001, 0.002, 0.003, 0.040, 0.004, 0.005],
        "gc_times": [1.2, 5.0, 10.2],
        "gc_pauses": [0.001, 0.030, 0.002],
        "gc_generations": [0.0, 2.0, 1.0],
    }

    figures = window_figures(samples, [(0.5, 2.5), (9.5, 11.0)])

    assert figures.lag_max_ms == 5.0
    assert figures.lag_p50_ms == 3.0
    assert figures.gc_collections == (1, 1, 0)
    assert figures.gc_longest_ms == (1.0, 2.0, 0.0)
