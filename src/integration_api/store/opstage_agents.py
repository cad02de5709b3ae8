"""The embedded Opstage agent's identity: one row per agent code, the token sealed by the vault."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

_GET = "SELECT * FROM opstage_agents WHERE code = $1"

_SAVE = """
INSERT INTO opstage_agents (code, backend_url, agent_id, sealed_token, registration_digest)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (code) DO UPDATE SET backend_url = $2, agent_id = $3, sealed_token = $4,
    registration_digest = $5, registered_at = now()"""


@dataclass(frozen=True)
class StoredAgent:
    code: str
    backend_url: str
    agent_id: str
    sealed_token: bytes = field(repr=False)
    registration_digest: str


class OpstageAgentRepository:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    async def load(self, code: str) -> StoredAgent | None:
        record = await self._pool.fetchrow(_GET, code)
        if record is None:
            return None
        return StoredAgent(
            code=record["code"],
            backend_url=record["backend_url"],
            agent_id=record["agent_id"],
            sealed_token=bytes(record["sealed_token"]),
            registration_digest=record["registration_digest"],
        )

    async def save(self, agent: StoredAgent) -> None:
        await self._pool.execute(
            _SAVE,
            agent.code,
            agent.backend_url,
            agent.agent_id,
            agent.sealed_token,
            agent.registration_digest,
        )
