"""The process-wide parts every request shares: database, vault, cache, provider HTTP client."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from integration_api.cache import MemoryCredentialCache, RedisCredentialCache
from integration_api.cache.call_gate import RedisCallGate
from integration_api.cache.redis_client import create_redis_client
from integration_api.cache.tenant_leases import RedisTenantLeases
from integration_api.config import Settings
from integration_api.credentials.cache import CredentialCache
from integration_api.credentials.call_gate import CallGate, GatePolicy
from integration_api.credentials.local_gate import LocalCallGate
from integration_api.credentials.operations import CredentialOperations
from integration_api.database import Database
from integration_api.llm.tenant_calls import TenantCallLimiter, process_share
from integration_api.oauth.operations import OAuthOperations
from integration_api.ops.opstage.assembly import build_agent
from integration_api.ops.service import Operations
from integration_api.providers.credential_catalog import EgressDestinations, RegistryCatalog
from integration_api.providers.egress import EgressPolicy
from integration_api.providers.http_client import (
    HttpClientSettings,
    ProviderClient,
    create_http_client,
)
from integration_api.providers.registry import DEFAULT_PRICES
from integration_api.providers.websocket import SocketSettings, WebSocketClient
from integration_api.routes.cache import RouteCache
from integration_api.routes.operations import RouteOperations
from integration_api.server.metrics import count_encryption
from integration_api.server.readiness import ReadinessCheck
from integration_api.speech.pipeline import session_limit
from integration_api.store.notifications import CredentialChangeListener
from integration_api.store.sealed import SealedValueRepository, missing_keys_message
from integration_api.store.usage_records import UsageRow, write_usage_batch
from integration_api.telephony.replays import InProcessReplays, RedisReplays, ReplayMemory
from integration_api.usage.budgets import Budgets
from integration_api.usage.ledger import BatchingLedger, LedgerSettings
from integration_api.usage.partitions import PartitionKeeper
from integration_api.usage.ports import BudgetGuard, UsageLedger
from integration_api.usage.price_book import PriceBook
from integration_api.vault import Envelope, Keyring

log = structlog.get_logger("integration_api.assembly.runtime")

# What the drain gives the ledger to write its last records (normally milliseconds): it runs
# after the gRPC grace, within the 5 s a pod's termination period adds on top of it.
LEDGER_DRAIN_SECONDS = 4.0


def create_cache(settings: Settings, keyring: Keyring) -> CredentialCache:
    if settings.redis.enabled:
        # The keyring authenticates shared entries: Redis may not change what a row says.
        return RedisCredentialCache.from_settings(
            settings.redis, settings.cache_ttl_seconds, keyring
        )
    return MemoryCredentialCache(ttl_seconds=settings.cache_ttl_seconds)


def _start_operations(
    settings: Settings,
    database: Database,
    envelope: Envelope,
    cache: CredentialCache,
    credential_ops: CredentialOperations,
    oauth_ops: OAuthOperations,
    gate: CallGate,
    budgets: Budgets,
    prices: PriceBook,
) -> Operations:
    """Operations, with the duties one process of the fleet at a time holds (whichever holds
    the lease, whether replicas or workers): health checks, the Opstage agent and the OAuth
    keep-alive refresher."""
    operations = Operations.create(
        settings.operations,
        database,
        envelope,
        cache,
        credential_ops,
        gate,
        budgets_changed=budgets.refresh_now,
        price_book=prices,
    )
    agent = build_agent(settings.operations, operations, envelope)
    if agent is not None:
        operations.closers.append(agent[1].close)
    duties = [agent[0].run] if agent is not None else []
    if settings.oauth.enabled and oauth_ops.keepalive.enabled:
        duties.append(oauth_ops.keepalive.run_forever)
    operations.start_leader_duties(duties, settings.operations.lease_retry_seconds)
    return operations


def create_caps(
    settings: Settings,
) -> tuple[TenantCallLimiter, TenantCallLimiter, RedisTenantLeases | None]:
    """The per-tenant caps on calls and speech sessions: fleet-wide through Redis when it is
    configured, each process's share of the pod's cap while it is down or without it."""
    leases = None
    if settings.redis.enabled:
        leases = RedisTenantLeases(
            create_redis_client(settings.redis),
            settings.redis.key_prefix,
            max_connections=settings.redis.max_connections,
        )
    calls, sessions = (
        settings.upstream.max_calls_per_tenant,
        settings.speech.max_sessions_per_tenant,
    )
    workers = settings.workers
    return (
        TenantCallLimiter(calls, leases=leases, share=process_share(calls, workers)),
        TenantCallLimiter(
            sessions,
            session_limit,
            leases=leases,
            scope="speech-sessions",
            share=process_share(sessions, workers),
        ),
        leases,
    )


def create_webhook_replays(settings: Settings) -> ReplayMemory:
    """The memory of accepted webhooks: fleet-wide through Redis when it is configured."""
    if not settings.redis.enabled:
        return InProcessReplays()
    return RedisReplays(
        create_redis_client(settings.redis),
        settings.redis.key_prefix,
        max_connections=settings.redis.max_connections,
    )


def create_ledger(
    settings: Settings, database: Database, prices: PriceBook
) -> tuple[BatchingLedger, PartitionKeeper]:
    """This process's usage ledger (every worker has its own), priced by `prices`, and the
    keeper of its partitions, both started; the database may not be reachable yet: batches wait
    for it."""
    usage = settings.usage

    async def write(rows: Sequence[UsageRow]) -> int:
        return await write_usage_batch(database.pool, rows)

    ledger = BatchingLedger(
        write,
        pricer=prices,
        pricer_ready=prices.wait_loaded,
        pricer_fresh=prices.fresh_for,
        settings=LedgerSettings(
            buffer_records=usage.buffer_records,
            batch_records=usage.batch_records,
            flush_interval_seconds=usage.flush_interval_seconds,
        ),
    )
    ledger.start()
    partitions = PartitionKeeper(lambda: database.pool, usage.retention_months)
    partitions.start()
    return ledger, partitions


def create_gate(settings: Settings) -> CallGate:
    """The credentials' gate: fleet-wide through Redis when it is configured (each process's
    share of the limits while it is down), in this process without it."""
    configured = settings.gate
    policy = GatePolicy(
        consecutive_failures=configured.breaker_failures,
        window_seconds=configured.breaker_window_seconds,
        min_calls=configured.breaker_min_calls,
        failure_ratio=configured.breaker_failure_ratio,
        open_seconds=configured.breaker_open_seconds,
        max_pause_seconds=configured.max_provider_pause_seconds,
    )
    if settings.redis.enabled:
        return RedisCallGate(
            create_redis_client(settings.redis),
            settings.redis.key_prefix,
            share=settings.workers,
            policy=policy,
            max_connections=settings.redis.max_connections,
        )
    return LocalCallGate(policy, share=settings.workers)


@dataclass
class Runtime:
    settings: Settings
    database: Database
    keyring: Keyring
    envelope: Envelope
    http: ProviderClient
    sockets: WebSocketClient
    egress: EgressPolicy
    cache: CredentialCache
    credential_ops: CredentialOperations
    listener: CredentialChangeListener
    tenant_calls: TenantCallLimiter
    speech_sessions: TenantCallLimiter
    leases: RedisTenantLeases | None
    webhook_replays: ReplayMemory
    gate: CallGate
    oauth_ops: OAuthOperations
    operations: Operations
    route_ops: RouteOperations
    # The ledger's `Pricer`: the price table in memory, shipped defaults seeded at start.
    prices: PriceBook
    ledger: BatchingLedger
    partitions: PartitionKeeper
    # The budget guard the pipelines ask before each provider call; the ledger's WrittenListener
    # is its `written`.
    budgets: Budgets
    # The ports the pipelines are assembled over: the two above, unless a test puts its own.
    usage_ledger: UsageLedger = dataclasses.field(init=False)
    budget_guard: BudgetGuard = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.usage_ledger = self.ledger
        self.budget_guard = self.budgets

    @classmethod
    async def create(cls, settings: Settings, database: Database) -> Runtime:
        keyring = Keyring.from_settings(settings.crypto_key, settings.crypto_decrypt_only_keys)
        envelope = Envelope(keyring, on_encrypt=count_encryption)
        egress = EgressPolicy.from_settings(settings)
        http = create_http_client(HttpClientSettings(limits=settings.upstream), policy=egress)
        cache = create_cache(settings, keyring)
        # Speech sockets: the same egress policy, the process's connection bound, explicit frames.
        sockets = WebSocketClient(
            egress,
            SocketSettings(
                max_frame_bytes=settings.speech.max_frame_bytes,
                max_connections=settings.upstream.max_connections,
                max_gap_seconds=settings.upstream.max_event_gap_seconds,
            ),
        )

        routes = RouteCache()

        async def forget_one(row_id: str) -> None:
            # Credentials and routes share the change channel; each id is a random UUID, so a
            # credential's id finds nothing among routes and the other way round.
            await cache.invalidate(row_id)
            await routes.forget(row_id)

        async def forget_everything() -> None:
            # Notifications may have been missed: only private caches must be emptied; a
            # shared Redis cache was invalidated by the writers themselves.
            if isinstance(cache, MemoryCredentialCache):
                await cache.clear()
            await routes.clear()

        listener = CredentialChangeListener(database.dsn, forget_one, forget_everything)
        listener.start()
        credential_ops = CredentialOperations(
            database, envelope, cache, RegistryCatalog(http), EgressDestinations(egress)
        )
        oauth_ops = OAuthOperations.create(database, envelope, http, settings.oauth)
        tenant_calls, speech_sessions, leases = create_caps(settings)
        gate = create_gate(settings)
        prices = PriceBook(database, DEFAULT_PRICES)
        prices.start()
        ledger, partitions = create_ledger(settings, database, prices)
        budgets = Budgets(database, settings.usage.budget_refresh_seconds)
        budgets.start()
        # What this process writes counts against its budgets at once, not at the next refresh.
        ledger.add_listener(budgets.written)
        return cls(
            settings=settings,
            database=database,
            keyring=keyring,
            envelope=envelope,
            http=http,
            sockets=sockets,
            egress=egress,
            cache=cache,
            credential_ops=credential_ops,
            listener=listener,
            tenant_calls=tenant_calls,
            speech_sessions=speech_sessions,
            leases=leases,
            webhook_replays=create_webhook_replays(settings),
            gate=gate,
            oauth_ops=oauth_ops,
            operations=_start_operations(
                settings,
                database,
                envelope,
                cache,
                credential_ops,
                oauth_ops,
                gate,
                budgets,
                prices,
            ),
            route_ops=RouteOperations(database, keyring, routes),
            ledger=ledger,
            partitions=partitions,
            budgets=budgets,
            prices=prices,
        )

    def readiness_checks(self) -> list[ReadinessCheck]:
        return [
            ReadinessCheck("keyring", self._keyring_covers_database),
            # No call is served (and so none recorded) before its price can be known.
            ReadinessCheck("prices", self.prices.not_ready_reason),
        ]

    async def _keyring_covers_database(self) -> str | None:
        """Not ready while any sealed value in the database is under a key the keyring lacks."""
        try:
            in_use = await SealedValueRepository(self.database.pool).key_ids_in_use()
        except Exception:  # noqa: BLE001 - the database check reports database trouble
            return None
        return missing_keys_message(in_use, self.keyring)

    async def close(self) -> None:
        # First, while the database is open: the server has stopped and its calls have ended,
        # so every record of this process is in the ledger's buffer.
        await self.ledger.close(LEDGER_DRAIN_SECONDS)
        await self.partitions.stop()
        await self.oauth_ops.keepalive.stop()
        await self.operations.close()
        await self.budgets.stop()
        await self.prices.stop()
        await self.listener.stop()
        await self.cache.close()
        if self.leases is not None:
            await self.leases.close()
        await self.webhook_replays.close()
        if isinstance(self.gate, RedisCallGate):
            await self.gate.close()
        await self.http.aclose()
        await self.sockets.close()
