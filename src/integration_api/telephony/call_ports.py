"""What call control needs from a provider module: one adapter per provider.

Each action receives the client its provider reaches the network with (the process-wide HTTP
client), so tests hand in one that reaches local servers. The pipeline only passes it on: the
port is generic in it, and the telephony package never imports the providers or an HTTP library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from integration_api.credentials.model import ProviderCredential
from integration_api.telephony.calls import Call, CallChange, PlaceCall

# What an action reaches its provider with; an adapter only takes it, hence contravariant.
ClientT_contra = TypeVar("ClientT_contra", contravariant=True)
ClientT = TypeVar("ClientT")


class CallControl(Protocol[ClientT_contra]):
    """One provider's calls. An action or form it does not offer raises `not_supported`."""

    async def place(
        self, http: ClientT_contra, credential: ProviderCredential, request: PlaceCall
    ) -> Call: ...

    async def get(
        self, http: ClientT_contra, credential: ProviderCredential, call_id: str
    ) -> Call: ...

    async def update(
        self,
        http: ClientT_contra,
        credential: ProviderCredential,
        call_id: str,
        change: CallChange,
    ) -> Call: ...

    async def hang_up(
        self, http: ClientT_contra, credential: ProviderCredential, call_id: str
    ) -> Call: ...


CallControlLookup = Callable[[str], "CallControl[ClientT] | None"]
