"""What call control needs from a provider module: one adapter per provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import httpx

from integration_api.credentials.model import ProviderCredential
from integration_api.telephony.calls import Call, CallChange, PlaceCall


class CallControl(Protocol):
    """One provider's calls. An action or form it does not offer raises `not_supported`."""

    async def place(
        self, http: httpx.AsyncClient, credential: ProviderCredential, request: PlaceCall
    ) -> Call: ...

    async def get(
        self, http: httpx.AsyncClient, credential: ProviderCredential, call_id: str
    ) -> Call: ...

    async def update(
        self,
        http: httpx.AsyncClient,
        credential: ProviderCredential,
        call_id: str,
        change: CallChange,
    ) -> Call: ...

    async def hang_up(
        self, http: httpx.AsyncClient, credential: ProviderCredential, call_id: str
    ) -> Call: ...


CallControlLookup = Callable[[str], CallControl | None]
