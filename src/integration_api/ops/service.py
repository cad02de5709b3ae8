"""Everything OperationsService and the Opstage agent act through, assembled once per process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from integration_api.config import OperationsSettings
from integration_api.credentials.cache import CredentialCache
from integration_api.credentials.call_gate import CallGate
from integration_api.credentials.operations import CredentialOperations
from integration_api.database import Database
from integration_api.errors import InvalidArgument
from integration_api.ops.access import credential_for, visible_tenant
from integration_api.ops.audit_trail import AuditTrail
from integration_api.ops.budgets import BudgetOperations
from integration_api.ops.checker import BackgroundChecker
from integration_api.ops.disable import BulkDisable
from integration_api.ops.health import CheckedCredential, HealthChecks
from integration_api.ops.inventory import Inventory
from integration_api.ops.leader import Duty, LeaderDuties
from integration_api.ops.prices import PriceOperations
from integration_api.ops.rotation import GatedRotations
from integration_api.ops.usage_query import UsageReports
from integration_api.principal import Principal
from integration_api.providers.registry import get_provider
from integration_api.store.inventory import InventoryRepository, InventoryScope
from integration_api.store.pagination import PageTokens
from integration_api.usage.price_book import PriceBook
from integration_api.vault import Envelope

MAX_CREDENTIALS_PER_CHECK = 100


@dataclass
class Operations:
    database: Database
    inventory: Inventory
    health: HealthChecks
    rotations: GatedRotations
    bulk_disable: BulkDisable
    audit: AuditTrail
    checker: BackgroundChecker | None
    budgets: BudgetOperations
    # SetPrice / ListPrices; a change reloads this process's price book at once.
    prices: PriceOperations
    # GetUsage and ExportUsage: the usage ledger's sums and records.
    usage: UsageReports
    leader: LeaderDuties | None = None
    # Released at shutdown, after the duties stopped (the agent's HTTP client).
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # The credentials' call gate, whose open breakers the inventory and Opstage show.
    gate: CallGate | None = None

    @classmethod
    def create(
        cls,
        settings: OperationsSettings,
        database: Database,
        envelope: Envelope,
        cache: CredentialCache,
        credential_ops: CredentialOperations,
        gate: CallGate | None = None,
        budgets_changed: Callable[[], Awaitable[None]] | None = None,
        price_book: PriceBook | None = None,
    ) -> Operations:
        health = HealthChecks(
            database, envelope, cache, credential_ops, settings.health_check_concurrency
        )
        interval = settings.health_check_interval_seconds
        checker = (
            BackgroundChecker(database, health, interval, settings.health_check_jitter_seconds)
            if interval > 0
            else None
        )
        page_tokens = PageTokens(envelope.keyring)
        return cls(
            database=database,
            inventory=Inventory(database, interval, page_tokens, gate),
            health=health,
            rotations=GatedRotations(database, credential_ops, settings.rotation_lifetime_seconds),
            bulk_disable=BulkDisable(database, credential_ops),
            audit=AuditTrail(database, page_tokens),
            checker=checker,
            budgets=BudgetOperations(database, budgets_changed),
            prices=PriceOperations(database, price_book.reload if price_book else None),
            usage=UsageReports(database),
            gate=gate,
        )

    def start_leader_duties(self, extra: list[Duty], retry_seconds: float) -> None:
        """Runs the checker (and `extra`, the agent) on whichever replica holds the lease."""
        duties = ([self.checker.run_forever] if self.checker else []) + extra
        self.leader = LeaderDuties(self.database.dsn, duties, retry_seconds)
        self.leader.start()

    async def close(self) -> None:
        if self.leader is not None:
            await self.leader.stop()
        for close in self.closers:
            await close()

    async def run_health_check(
        self, principal: Principal, credential_ids: list[str], provider: str, everything: bool
    ) -> list[CheckedCredential]:
        """Checks the named credentials, or a provider's, or all the caller may see."""
        if len(credential_ids) > MAX_CREDENTIALS_PER_CHECK:
            raise InvalidArgument.for_field(
                "credential_ids", f"at most {MAX_CREDENTIALS_PER_CHECK} at once"
            )
        if not (credential_ids or provider or everything):
            raise InvalidArgument.for_field(
                "credential_ids", "name credentials, a provider, or set all"
            )
        if credential_ids:
            pool = self.database.pool
            rows = [await credential_for(pool, principal, cid) for cid in credential_ids]
        else:
            if provider:
                get_provider(provider)
            scope = InventoryScope(visible_tenant(principal, "", ""), provider or None)
            rows = await InventoryRepository(self.database.pool).matching(
                scope, include_disabled=False
            )
        return await self.health.check_all(rows, requested_by=principal)
