"""What the agent reports: one Capsule service per provider with stored credentials, plus one
for the service itself, each with its manifest, health, observed configs and actions.

Configs are observed values (pinned model, upstream URL, API version, counts, last rotation, the
keyring's key ids), never a secret; nothing here reads ciphertext or key material.

OAuth connections are counted on the service itself, per OAuth provider (active, and waiting for
their user to authorize again), not as Capsule services of their own: they have no upstream,
model or key an operator acts on, and the console's actions are all about stored keys. They do
not move its health either: a connection that needs reauthorization waits on its user.
"""

from __future__ import annotations

from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from integration_api.credentials.call_gate import CallGate
from integration_api.credentials.model import CredentialConfig
from integration_api.database import Database
from integration_api.oauth.registry import provider_names as oauth_provider_names
from integration_api.ops.breakers import CIRCUIT_OPEN_STATUS, with_breakers
from integration_api.ops.inventory import stale_before
from integration_api.ops.opstage.catalogue import ACTIONS, PROVIDER_ACTIONS, SERVICE_ACTIONS
from integration_api.ops.opstage.usage_report import (
    UsageFigures,
    UsageReport,
    budget_configs,
    provider_usage_configs,
)
from integration_api.providers.endpoints import default_base_url
from integration_api.store.connection_inventory import ConnectionInventoryRepository
from integration_api.store.inventory import InventoryRepository, InventoryScope
from integration_api.vault import Keyring

SERVICE_CODE = "integration-api"
PROVIDER_PREFIX = "provider-"


def service_version() -> str:
    try:
        return version("integration-api")
    except PackageNotFoundError:
        return "0.0.0"


def provider_health(statuses: Counter[str]) -> dict[str, Any]:
    """UP: every enabled credential healthy; DOWN: none healthy and some rejected; else DEGRADED."""
    enabled = {status: n for status, n in statuses.items() if status != "disabled"}
    if not enabled or set(enabled) == {"healthy"}:
        return {"status": "UP", "details": dict(statuses)}
    if "healthy" not in enabled and "unhealthy" in enabled:
        return {
            "status": "DOWN",
            "message": "no credential passes its check",
            "details": dict(statuses),
        }
    return {
        "status": "DEGRADED",
        "message": "some credentials are not healthy",
        "details": dict(statuses),
    }


def _config(key: str, value: object, label: str) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "type": "string",
        "source": "observed",
        "editable": False,
        "sensitive": False,
        "valuePreview": str(value),
    }


def _manifest(code: str, name: str, capabilities: list[str]) -> dict[str, Any]:
    return {
        "kind": "CapsuleService",
        "schemaVersion": "1",
        "code": code,
        "name": name,
        "version": service_version(),
        "runtime": "python",
        "agentMode": "embedded",
        "capabilities": capabilities,
        "labels": {"component": "integration-api"},
    }


def _service(
    code: str, name: str, health: dict[str, Any], configs: list[dict[str, Any]], actions: list[str]
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "version": service_version(),
        "runtime": "python",
        "manifest": _manifest(code, name, actions),
        "health": health,
        "configs": configs,
        "actions": [ACTIONS[action] for action in actions],
    }


class ServiceReport:
    def __init__(
        self,
        database: Database,
        keyring: Keyring,
        check_interval: float,
        gate: CallGate | None = None,
        usage: UsageReport | None = None,
    ) -> None:
        self._database = database
        self._keyring = keyring
        self._interval = check_interval
        self._gate = gate
        self._usage = usage or UsageReport(database)

    async def services(self) -> list[dict[str, Any]]:
        repository = InventoryRepository(self._database.pool)
        rows = await repository.page(
            InventoryScope(None),
            stale_before=stale_before(self._interval),
            effective_status=None,
            limit=500,
            after=None,
        )
        rows = await with_breakers(rows, self._gate)
        by_provider: dict[str, list[Any]] = {}
        for row in rows:
            by_provider.setdefault(row.credential.provider, []).append(row)
        figures = await self._usage.figures()
        providers = [
            self._provider(provider, items, figures)
            for provider, items in sorted(by_provider.items())
        ]
        return [await self._itself(providers, len(rows), figures), *providers]

    async def _itself(
        self, providers: list[dict[str, Any]], total: int, figures: UsageFigures
    ) -> dict[str, Any]:
        reason = await self._database.probe()
        down = [p["code"] for p in providers if p["health"]["status"] == "DOWN"]
        if reason:
            health = {"status": "DOWN", "message": "database not ready"}
        elif down:
            health = {"status": "DEGRADED", "message": f"providers down: {', '.join(down)}"}
        else:
            health = {"status": "UP"}
        configs = [
            _config("VERSION", service_version(), "Version"),
            _config("CREDENTIALS_TOTAL", total, "Credentials"),
            _config("KEYRING_PRIMARY_KEY_ID", self._keyring.primary_key_id, "Primary key id"),
            _config(
                "KEYRING_DECRYPT_ONLY_KEY_IDS",
                ",".join(self._keyring.decrypt_only_key_ids),
                "Decrypt-only key ids",
            ),
            _config("HEALTH_CHECK_INTERVAL_SECONDS", self._interval, "Check interval"),
            *await self._oauth_connection_configs(),
            *budget_configs(figures, _config),
        ]
        return _service(SERVICE_CODE, "integration-api", health, configs, SERVICE_ACTIONS)

    async def _oauth_connection_configs(self) -> list[dict[str, Any]]:
        """Per OAuth provider the service knows (zeros too, so the keys stay stable)."""
        repository = ConnectionInventoryRepository(self._database.pool)
        totals = {item.provider: item for item in await repository.aggregates(InventoryScope(None))}
        configs = []
        for provider in oauth_provider_names():
            found = totals.get(provider)
            prefix, label = f"OAUTH_{provider.upper()}", f"{provider} OAuth connections"
            configs += [
                _config(f"{prefix}_ACTIVE", found.active if found else 0, f"{label}: active"),
                _config(
                    f"{prefix}_REAUTHORIZATION_REQUIRED",
                    found.reauthorization_required if found else 0,
                    f"{label}: reauthorization required",
                ),
            ]
        return configs

    def _provider(self, provider: str, rows: list[Any], figures: UsageFigures) -> dict[str, Any]:
        credentials = [row.credential for row in rows]
        statuses = Counter(row.effective_status for row in rows)
        configs_seen = [CredentialConfig.from_json(row.config) for row in credentials]
        models = sorted({c.default_model for c in configs_seen if c.default_model})
        urls = sorted({c.base_url or default_base_url(provider, c) or "" for c in configs_seen})
        versions = sorted({c.api_version for c in configs_seen if c.api_version})
        rotated = [row for row in credentials if row.rotated_at is not None]
        last = max(rotated, key=lambda row: row.rotated_at) if rotated else None
        configs = [
            _config("MODEL_DEFAULT", ",".join(models), "Pinned default model"),
            _config("UPSTREAM_URL", ",".join(url for url in urls if url), "Upstream URL"),
            _config("API_VERSION", ",".join(versions), "API version"),
            _config("CREDENTIALS_TOTAL", len(credentials), "Credentials"),
            _config("CREDENTIALS_DISABLED", statuses.get("disabled", 0), "Disabled"),
            _config(
                "CREDENTIALS_FAILING",
                statuses.get("unhealthy", 0) + statuses.get("degraded", 0),
                "Failing their check",
            ),
            _config(
                "CREDENTIALS_CIRCUIT_OPEN",
                statuses.get(CIRCUIT_OPEN_STATUS, 0),
                "Circuit breaker open",
            ),
            _config(
                "LAST_ROTATION",
                f"{last.rotated_at.isoformat()} by {last.rotated_by}"
                if last and last.rotated_at
                else "never",
                "Last rotation",
            ),
            *provider_usage_configs(figures, provider, _config),
        ]
        code = PROVIDER_PREFIX + provider
        return _service(code, provider, provider_health(statuses), configs, PROVIDER_ACTIONS)
