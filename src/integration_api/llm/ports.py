"""What the chat pipeline needs from the rest of the service, and from a provider.

`CredentialSource` is offered by the credential operations; `ChatModel` by each provider module
that can chat (`providers.registry` says which one serves which provider id). Every call
receives the process-wide HTTP client, so tests hand in one that talks to a local server.
The client's type is a parameter (`ClientT_contra`): the providers own it, and the domain never
imports them; the process assembly names it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol, TypeVar

from integration_api.credentials.model import ProviderCredential
from integration_api.llm.contract import ChatRequest, StreamPart
from integration_api.principal import Tenant
from integration_api.upstream.timer import UpstreamTimer


class CredentialSource(Protocol):
    """Stored credentials, decrypted for one call (the credential operations offer this)."""

    async def resolve_for_use(self, tenant: Tenant, credential_id: str) -> ProviderCredential:
        """The credential, decrypted in memory for this call.

        Raises:
            NotFound: unknown id, or another tenant's.
            FailedPrecondition: reason CREDENTIAL_DISABLED, the credential is disabled.
        """
        ...

    async def record_rejection(self, tenant: Tenant, credential_id: str, message: str) -> None:
        """Record that the provider refused the key while it was in use (its last check)."""
        ...


# What a provider call reaches its provider with; a model only takes it, hence contravariant.
ClientT_contra = TypeVar("ClientT_contra", contravariant=True)


class ChatModel(Protocol[ClientT_contra]):
    """Streams one chat answer from a provider, translated to the normalized parts."""

    @property
    def provider(self) -> str: ...

    def default_model(self, credential: ProviderCredential) -> str:
        """The model to use when the request names none ('' when the credential has none)."""
        ...

    def stream_chat(
        self,
        credential: ProviderCredential,
        request: ChatRequest,
        http: ClientT_contra,
        timer: UpstreamTimer,
    ) -> AsyncGenerator[StreamPart, None]:
        """The parts of one answer, ending with exactly one `Finish`.

        Raises the typed error that ended the answer instead. Time spent waiting on the
        provider is added to `timer`.
        """
        ...
