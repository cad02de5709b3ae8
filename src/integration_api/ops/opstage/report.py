"""What the agent reports: one Capsule service per provider with stored credentials, plus one
for the service itself, each with its manifest, health, observed configs and actions.

Configs are observed values (pinned model, upstream URL, API version, counts, last rotation, the
keyring's key ids), never a secret; nothing here reads ciphertext or key material. A provider's
health follows the table in `status`, and carries one row per credential (`accounts`).

A provider whose last credential is gone stays a Capsule service (Opstage cannot delete one),
reported as what it is: no credentials, health UNKNOWN, zero counts, no model or upstream, no
action. The agent names those services (`retired`): it remembers what it reported.

OAuth connections are counted on the service itself, per OAuth provider (active, and waiting for
their user to authorize again), not as Capsule services of their own: they have no upstream,
model or key an operator acts on, and the console's actions are all about stored keys. They do
not move its health either: a connection that needs reauthorization waits on its user.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from integration_api.credentials.call_gate import CallGate
from integration_api.credentials.model import CredentialConfig
from integration_api.database import Database
from integration_api.oauth.registry import provider_names as oauth_provider_names
from integration_api.ops.breakers import CIRCUIT_OPEN_STATUS, with_breakers
from integration_api.ops.inventory import stale_before
from integration_api.ops.opstage.accounts import ACCOUNTS_IN_REPORT, report_accounts, upstream_of
from integration_api.ops.opstage.catalogue import ACTIONS, PROVIDER_ACTIONS, SERVICE_ACTIONS
from integration_api.ops.opstage.status import FAILING, provider_health
from integration_api.ops.opstage.usage_report import (
    UsageFigures,
    UsageReport,
    budget_configs,
    provider_usage_configs,
)
from integration_api.store.connection_inventory import ConnectionInventoryRepository
from integration_api.store.inventory import (
    InventoryRepository,
    InventoryRow,
    InventoryScope,
    position_of,
)
from integration_api.vault import Keyring

SERVICE_CODE = "integration-api"
PROVIDER_PREFIX = "provider-"
# Credentials read per query while the report pages through all of them.
INVENTORY_PAGE = 500


def service_version() -> str:
    try:
        return version("integration-api")
    except PackageNotFoundError:
        return "0.0.0"


def config_item(key: str, value: object, label: str) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "type": "string",
        "source": "observed",
        "editable": False,
        "sensitive": False,
        "valuePreview": str(value),
    }


def _manifest(code: str, name: str, capabilities: list[str], state: str) -> dict[str, Any]:
    return {
        "kind": "CapsuleService",
        "schemaVersion": "1",
        "code": code,
        "name": name,
        "version": service_version(),
        "runtime": "python",
        "agentMode": "embedded",
        "capabilities": capabilities,
        "labels": {"component": "integration-api", "state": state},
    }


def _service(
    code: str,
    name: str,
    health: dict[str, Any],
    configs: list[dict[str, Any]],
    actions: list[str],
    description: str,
    state: str = "active",
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "description": description,
        "version": service_version(),
        "runtime": "python",
        "manifest": _manifest(code, name, actions, state),
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
        accounts_in_report: int = ACCOUNTS_IN_REPORT,
    ) -> None:
        self._database = database
        self._keyring = keyring
        self._interval = check_interval
        self._gate = gate
        self._usage = usage or UsageReport(database)
        self._accounts = accounts_in_report

    async def services(self, retired: Collection[str] = ()) -> list[dict[str, Any]]:
        """The service itself, then one service per provider with credentials, and one per code
        in `retired` (provider services reported before) whose provider has none left."""
        rows = await with_breakers(await self._inventory(), self._gate)
        by_provider: dict[str, list[InventoryRow]] = {}
        for row in rows:
            by_provider.setdefault(row.credential.provider, []).append(row)
        for code in retired:
            if code.startswith(PROVIDER_PREFIX):
                by_provider.setdefault(code[len(PROVIDER_PREFIX) :], [])
        figures = await self._usage.figures()
        providers = [
            self._provider(provider, items, figures)
            for provider, items in sorted(by_provider.items())
        ]
        return [await self._itself(providers, len(rows), figures), *providers]

    async def _inventory(self) -> list[InventoryRow]:
        """Every credential of every tenant, a page at a time."""
        repository = InventoryRepository(self._database.pool)
        cutoff = stale_before(self._interval)
        rows: list[InventoryRow] = []
        while True:
            page = await repository.page(
                InventoryScope(None),
                stale_before=cutoff,
                effective_status=None,
                limit=INVENTORY_PAGE,
                after=position_of(rows[-1]) if rows else None,
            )
            rows += page
            if len(page) < INVENTORY_PAGE:
                return rows

    async def _itself(
        self, providers: list[dict[str, Any]], total: int, figures: UsageFigures
    ) -> dict[str, Any]:
        reason = await self._database.probe()
        # Providers whose credentials fail their checks; one whose every credential an operator
        # disabled is DOWN too, but that is a decision, not a fault of the service.
        down = [p["code"] for p in providers if p["health"]["status"] == "DOWN" and _failing(p)]
        if reason:
            health = {"status": "DOWN", "message": "database not ready"}
        elif down:
            health = {"status": "DEGRADED", "message": f"providers down: {', '.join(down)}"}
        else:
            health = {"status": "UP"}
        configs = [
            config_item("VERSION", service_version(), "Version"),
            config_item("CREDENTIALS_TOTAL", total, "Credentials"),
            config_item("KEYRING_PRIMARY_KEY_ID", self._keyring.primary_key_id, "Primary key id"),
            config_item(
                "KEYRING_DECRYPT_ONLY_KEY_IDS",
                ",".join(self._keyring.decrypt_only_key_ids),
                "Decrypt-only key ids",
            ),
            config_item("HEALTH_CHECK_INTERVAL_SECONDS", self._interval, "Check interval"),
            *await self._oauth_connection_configs(),
            *budget_configs(figures, config_item),
        ]
        return _service(
            SERVICE_CODE,
            "integration-api",
            health,
            configs,
            SERVICE_ACTIONS,
            "Provider execution layer: stored provider credentials, calls, usage and budgets",
        )

    async def _oauth_connection_configs(self) -> list[dict[str, Any]]:
        """Per OAuth provider the service knows (zeros too, so the keys stay stable)."""
        repository = ConnectionInventoryRepository(self._database.pool)
        totals = {item.provider: item for item in await repository.aggregates(InventoryScope(None))}
        configs = []
        for provider in oauth_provider_names():
            found = totals.get(provider)
            prefix, label = f"OAUTH_{provider.upper()}", f"{provider} OAuth connections"
            configs += [
                config_item(f"{prefix}_ACTIVE", found.active if found else 0, f"{label}: active"),
                config_item(
                    f"{prefix}_REAUTHORIZATION_REQUIRED",
                    found.reauthorization_required if found else 0,
                    f"{label}: reauthorization required",
                ),
            ]
        return configs

    def _provider(
        self, provider: str, rows: list[InventoryRow], figures: UsageFigures
    ) -> dict[str, Any]:
        credentials = [row.credential for row in rows]
        statuses = Counter(row.effective_status for row in rows)
        configs_seen = [CredentialConfig.from_json(row.config) for row in credentials]
        models = sorted({c.default_model for c in configs_seen if c.default_model})
        urls = sorted({upstream_of(provider, c) for c in configs_seen})
        versions = sorted({c.api_version for c in configs_seen if c.api_version})
        rotations = [(row.rotated_at, row.rotated_by) for row in credentials if row.rotated_at]
        last_rotation = max(rotations) if rotations else None
        configs = [
            config_item("MODEL_DEFAULT", ",".join(models), "Pinned default model"),
            config_item("UPSTREAM_URL", ",".join(url for url in urls if url), "Upstream URL"),
            config_item("API_VERSION", ",".join(versions), "API version"),
            config_item("CREDENTIALS_TOTAL", len(credentials), "Credentials"),
            config_item("CREDENTIALS_DISABLED", statuses.get("disabled", 0), "Disabled"),
            config_item(
                "CREDENTIALS_FAILING",
                statuses.get("unhealthy", 0) + statuses.get("degraded", 0),
                "Failing their check",
            ),
            config_item(
                "CREDENTIALS_CIRCUIT_OPEN",
                statuses.get(CIRCUIT_OPEN_STATUS, 0),
                "Circuit breaker open",
            ),
            config_item(
                "CREDENTIALS_UNCHECKED",
                statuses.get("unknown", 0) + statuses.get("stale", 0),
                "Not checked recently",
            ),
            config_item(
                "LAST_ROTATION",
                f"{last_rotation[0].isoformat()} by {last_rotation[1]}"
                if last_rotation
                else "never",
                "Last rotation",
            ),
            *provider_usage_configs(figures, provider, config_item),
        ]
        code = PROVIDER_PREFIX + provider
        health = provider_health(rows)
        details = {**report_accounts(rows, self._accounts), "statuses": health.counts}
        if not rows:
            return _service(
                code,
                provider,
                health.report(details),
                configs,
                [],
                f"{provider}: no credentials stored any more",
                state="no-credentials",
            )
        return _service(
            code,
            provider,
            health.report(details),
            configs,
            PROVIDER_ACTIONS,
            f"{provider}: {len(rows)} stored credential(s) across tenants",
        )


def _failing(service: dict[str, Any]) -> bool:
    statuses = service["health"].get("details", {}).get("statuses", {})
    return any(statuses.get(status, 0) for status in FAILING)
