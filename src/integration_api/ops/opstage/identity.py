"""The agent's identity: registered once, its token sealed by the vault in the database.

Registration tokens are single-use, so the agent token obtained with one is kept (encrypted
under the keyring, bound to the agent code and backend URL) and reused by every later start
and by whichever replica leads. Only a different registration token than the one last used
leads to registering again (an operator issued a new one, e.g. after revoking the agent).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import structlog

from integration_api.database import Database
from integration_api.ops.opstage.client import OpstageClient, Registration
from integration_api.store.opstage_agents import OpstageAgentRepository, StoredAgent
from integration_api.vault import AssociatedData, Envelope

log = structlog.get_logger("integration_api.opstage")


@dataclass(frozen=True)
class AgentConfig:
    backend_url: str
    registration_token: str
    code: str
    name: str = "integration-api"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _binding(config: AgentConfig) -> AssociatedData:
    return AssociatedData(
        organization_id="opstage-agent",
        project_id="",
        credential_id=config.code,
        provider=config.backend_url,
    )


class AgentIdentity:
    def __init__(self, config: AgentConfig, database: Database, envelope: Envelope) -> None:
        self._config = config
        self._database = database
        self._envelope = envelope

    def _repository(self) -> OpstageAgentRepository:
        return OpstageAgentRepository(self._database.pool)

    async def stored(self) -> tuple[str, str] | None:
        """(agent id, agent token) kept from an earlier registration with this backend."""
        agent = await self._repository().load(self._config.code)
        if agent is None or agent.backend_url != self._config.backend_url:
            return None
        token = self._envelope.decrypt(agent.sealed_token, _binding(self._config)).decode()
        return agent.agent_id, token

    async def registration_token_used(self) -> bool:
        agent = await self._repository().load(self._config.code)
        return agent is not None and agent.registration_digest == _digest(
            self._config.registration_token
        )

    async def register(self, client: OpstageClient, service: dict[str, object]) -> Registration:
        agent = {
            "code": self._config.code,
            "name": self._config.name,
            "mode": "embedded",
            "runtime": "python",
        }
        registration = await client.register(self._config.registration_token, agent, service)
        sealed = self._envelope.encrypt(registration.agent_token.encode(), _binding(self._config))
        await self._repository().save(
            StoredAgent(
                code=self._config.code,
                backend_url=self._config.backend_url,
                agent_id=registration.agent_id,
                sealed_token=sealed,
                registration_digest=_digest(self._config.registration_token),
            )
        )
        log.info("opstage agent registered", agent_id=registration.agent_id)
        return registration
