"""The heap a serving process settles into once it has started.

Everything built while starting (modules, the descriptor pool, the gRPC server, pools, caches)
lives as long as the process. Left in the collector's oldest generation, every full collection
walks all of it again: measured under 64 realistic streams, one such collection paused the event
loop, and with it every stream, for 88 ms. Freezing it once start-up is done moves it out of the
collector's sight, so the full collections that remain walk only what requests left behind.
"""

from __future__ import annotations

import gc


def settle_heap() -> int:
    """Collects start-up garbage, then freezes what is left; returns how many objects froze."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
