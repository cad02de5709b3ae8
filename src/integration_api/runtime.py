"""The process-wide parts every request shares: database, vault, cache, provider HTTP client."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import structlog

from integration_api.config import Settings
from integration_api.providers.transport import create_http_client
from integration_api.server.database import Database
from integration_api.server.readiness import ReadinessCheck
from integration_api.store.credentials import CredentialRepository
from integration_api.vault import Envelope, Keyring

log = structlog.get_logger("integration_api.runtime")


@dataclass
class Runtime:
    settings: Settings
    database: Database
    keyring: Keyring
    envelope: Envelope
    http: httpx.AsyncClient

    @classmethod
    async def create(cls, settings: Settings, database: Database) -> Runtime:
        keyring = Keyring.from_settings(settings.crypto_key, settings.crypto_decrypt_only_keys)
        return cls(
            settings=settings,
            database=database,
            keyring=keyring,
            envelope=Envelope(keyring),
            http=create_http_client(),
        )

    def credentials(self) -> CredentialRepository:
        return CredentialRepository(self.database.pool)

    def readiness_checks(self) -> list[ReadinessCheck]:
        return [ReadinessCheck("keyring", self._keyring_covers_database)]

    async def _keyring_covers_database(self) -> str | None:
        """Not ready while the database holds ciphertexts under a key the keyring lacks."""
        try:
            stored = await self.credentials().distinct_key_ids()
        except Exception:  # noqa: BLE001 - the database check reports database trouble
            return None
        missing = sorted(key_id for key_id in stored if not self.keyring.has(key_id))
        if missing:
            return (
                "the database holds credentials encrypted under key id(s) "
                f"{', '.join(missing)} that INTEGRATION_CRYPTO_KEY/INTEGRATION_CRYPTO_KEYS lack"
            )
        return None

    async def close(self) -> None:
        await self.http.aclose()
