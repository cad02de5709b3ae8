"""Label values a caller chooses (a model name), bounded so they cannot grow series without end.

Each tenant may introduce at most `per_tenant` distinct values per scope (a provider). A value
one tenant introduced is then counted under its own name for every tenant, and a scope admits
at most `max_values` values in all. Past either bound a new value counts as `other`. An
admitted value is never withdrawn, so a tenant flooding names spends only its own quota: what
other tenants already use keeps its name, and their own new values still have their quota
until the scope's ceiling (which takes many tenants to reach) is. Only tenants that introduced
a value are remembered, so the memory is bounded by the same ceiling.

The state is per process: with several workers the same value in two of them is one series,
and the fleet holds at most `max_values` values per scope and worker.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

OTHER = "other"


@dataclass
class _Scope:
    admitted: set[str] = field(default_factory=set)
    introduced: dict[Hashable, int] = field(default_factory=dict)


class BoundedLabel:
    """The label value to use for a caller's value, per tenant and scope."""

    def __init__(self, *, per_tenant: int, max_values: int) -> None:
        if not 0 < per_tenant <= max_values:
            raise ValueError("need 0 < per_tenant <= max_values")
        self.per_tenant = per_tenant
        self.max_values = max_values
        self._scopes: dict[str, _Scope] = {}

    def value(self, tenant: Hashable, scope: str, value: str) -> str:
        """`value` if it is (or may now be) a series of `scope`, else `other`."""
        found = self._scopes.setdefault(scope, _Scope())
        if value in found.admitted:
            return value
        spent = found.introduced.get(tenant, 0)
        if spent >= self.per_tenant or len(found.admitted) >= self.max_values:
            return OTHER
        found.introduced[tenant] = spent + 1
        found.admitted.add(value)
        return value

    def admitted(self, scope: str) -> frozenset[str]:
        """The values `scope` counts under their own names."""
        found = self._scopes.get(scope)
        return frozenset(found.admitted) if found else frozenset()
