"""The order in which a call tries a route's targets.

`failover` tries them as the route lists them. `balance` spreads calls by weight: each pick is a
weighted random draw among the targets not tried yet, for as long as the targets tried so far
were only skipped (at their rate limit, breaker open: no provider was called, so the call still
belongs to the balance). Once a target was called and failed, the rest go in the route's order,
as in `failover`, so a failing provider moves calls to a predictable next target.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from integration_api.routes.model import Route, RouteTarget


class TargetOrder:
    """Yields `(index, target)` pairs; `called_and_failed()` ends the weighted part."""

    def __init__(self, route: Route, chooser: random.Random | None = None) -> None:
        self._route = route
        self._chooser = chooser or _shared_chooser
        self._remaining = list(range(len(route.targets)))
        self._weighted = route.policy == "balance" and len(route.targets) > 1

    def __iter__(self) -> Iterator[tuple[int, RouteTarget]]:
        while self._remaining:
            index = self._pick()
            self._remaining.remove(index)
            yield index, self._route.targets[index]

    def is_last(self) -> bool:
        """Whether the target just handed out is the last one left."""
        return not self._remaining

    def called_and_failed(self) -> None:
        """A target was called and failed: the rest follow in the route's order."""
        self._weighted = False

    def _pick(self) -> int:
        if not self._weighted or len(self._remaining) == 1:
            return self._remaining[0]
        weights = [max(1, self._route.targets[index].weight) for index in self._remaining]
        return self._chooser.choices(self._remaining, weights=weights)[0]


# Not for secrets: only spreads load.
_shared_chooser = random.Random()
