"""The start-up heap is frozen once a serving process has started.

Checked in a fresh interpreter: in the test session's own process, threads other tests left
running (gRPC's, executors') can free frozen objects between the freeze and the count.
"""

from __future__ import annotations

import json
import subprocess
import sys

_SETTLE = """
import gc, json
from integration_api.server.heap import settle_heap

long_lived = [object() for _ in range(1000)]
frozen = settle_heap()
print(json.dumps({
    "frozen": frozen,
    "freeze_count": gc.get_freeze_count(),
    "long_lived": len(long_lived),
    "still_tracked": any(item is long_lived for item in gc.get_objects(generation=2)),
}))
"""


def test_settling_the_heap_hides_start_up_objects_from_the_collector() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SETTLE], capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(done.stdout)

    assert seen["frozen"] >= seen["long_lived"]
    assert seen["frozen"] == seen["freeze_count"]
    # What the collector still tracks no longer includes what start-up left alive.
    assert not seen["still_tracked"]
