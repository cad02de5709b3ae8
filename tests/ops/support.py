"""A test's view of OperationsService: callers of several tenants, operators, credentials."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from integration_api_proto.integration.v1 import Credential
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    OperationsServiceStub,
)

from integration_api.auth.tokens import mint_token
from tests.credentials.helpers import openai_request
from tests.fakes.server import FakeServer
from tests.support.service import RunningService

Metadata = tuple[tuple[str, str], ...]


def new_key() -> str:
    return "sk-proj-" + secrets.token_urlsafe(24)


@dataclass
class Caller:
    service: RunningService
    operations: OperationsServiceStub
    credentials: CredentialServiceStub
    provider: FakeServer
    accepted: set[str]

    def tenant(self, organization: str, user: str = "alice") -> Metadata:
        token = mint_token(
            self.service.settings.secret,
            organization_id=organization,
            project_id="p1",
            user_id=user,
        )
        return (("authorization", f"Bearer {token}"),)

    def operator(self, user: str = "olga") -> Metadata:
        token = mint_token(
            self.service.settings.secret,
            organization_id="ops",
            project_id="ops",
            subject=user,
            operator=True,
        )
        return (("authorization", f"Bearer {token}"),)

    async def stored(self, organization: str, key: str | None = None) -> tuple[Credential, str]:
        """A verified OpenAI credential of a new name in `organization`; returns it and its key."""
        key = key or new_key()
        self.accepted.add(key)
        request = openai_request(key, self.provider.url, name="c-" + secrets.token_hex(4))
        response = await self.credentials.create_credential(
            request, metadata=self.tenant(organization)
        )
        assert response.credential is not None
        return response.credential, key
