"""The start-up heap is frozen once a serving process has started."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from integration_api.server.heap import settle_heap


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen_afterwards")
def test_settling_the_heap_hides_start_up_objects_from_the_collector() -> None:
    long_lived = [object() for _ in range(1000)]

    frozen = settle_heap()

    assert frozen >= len(long_lived)
    assert frozen == gc.get_freeze_count()
    # What the collector still tracks no longer includes what start-up left alive.
    assert not any(item is long_lived for item in gc.get_objects(generation=2))
