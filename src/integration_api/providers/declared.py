"""The providers' declarations, looked up by id for the plumbing every provider module uses.

Endpoints and the egress policy answer questions by provider id, and they sit below the provider
modules that ask them; the registry, which lists every provider folder, sits above those
modules. So the plumbing reads the registry's tables when the first question is asked, once
every module has loaded, rather than when it is imported.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from integration_api.providers.declaration import ProviderSpec


def declaration(provider: str) -> ProviderSpec | None:
    """The declaration of `provider`, or None when no folder declares that id."""
    return _providers().get(provider)


def provider_hosts() -> Mapping[str, tuple[str, ...]]:
    """Every declared id's own hosts: providers' and host-only ids' (OAuth identity providers)."""
    from integration_api.providers import registry

    return registry.PROVIDER_HOSTS


@functools.cache
def _providers() -> Mapping[str, ProviderSpec]:
    from integration_api.providers import registry

    return registry.PROVIDERS
