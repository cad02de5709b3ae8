"""Assembles the grpc.aio server: interceptor, servicers, health, reflection, lifecycle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
import grpc.aio
import structlog
from grpc_health.v1 import health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from integration_api_proto.integration import v1 as contract

from integration_api.assembly.runtime import Runtime
from integration_api.assembly.services import register_services
from integration_api.assembly.warm_up import warm_up
from integration_api.auth.tokens import TokenPolicy
from integration_api.config import ConfigError, Settings
from integration_api.database import Database
from integration_api.descriptor_set import load_descriptor_set
from integration_api.oauth.callback_shim import CallbackShim
from integration_api.observability import tracing
from integration_api.server.interceptor import ServiceInterceptor
from integration_api.server.metrics import MetricsEndpoint
from integration_api.server.ports import ensure_ports_free
from integration_api.server.readiness import Readiness, ReadinessCheck, Report
from integration_api.server.reflection import enable_reflection, service_names

log = structlog.get_logger("integration_api.server")

CONTRACT_PACKAGE = "integration.v1"


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def grpc_options(settings: Settings, *, reuse_port: bool = False) -> list[tuple[str, int]]:
    """The channel arguments of the server: message sizes, per-connection limits, ping policy.

    How many RPCs are taken on is decided by the interceptor's admission, not by grpc's
    `maximum_concurrent_rpcs`, which would count health checks and anonymous streams alike.
    """
    limits = settings.grpc
    return [
        ("grpc.max_receive_message_length", limits.max_message_bytes),
        ("grpc.max_send_message_length", limits.max_message_bytes),
        ("grpc.max_concurrent_streams", limits.max_streams_per_connection),
        # Old connections are sent GOAWAY (clients reconnect, so load spreads over replicas);
        # the grace lets a live speech or chat stream on them finish.
        ("grpc.max_connection_age_ms", _ms(limits.max_connection_age_seconds)),
        ("grpc.max_connection_age_grace_ms", _ms(limits.max_connection_age_grace_seconds)),
        ("grpc.max_connection_idle_ms", _ms(limits.max_connection_idle_seconds)),
        ("grpc.keepalive_time_ms", limits.keepalive_time_seconds * 1000),
        ("grpc.keepalive_timeout_ms", 20_000),
        # Reject clients that ping more often than this (keepalive enforcement).
        (
            "grpc.http2.min_ping_interval_without_data_ms",
            limits.keepalive_min_ping_interval_seconds * 1000,
        ),
        ("grpc.keepalive_permit_without_calls", int(limits.keepalive_permit_without_calls)),
        ("grpc.http2.max_ping_strikes", limits.keepalive_max_ping_strikes),
        # Only the workers of one supervisor share a port; a lone server refuses a taken one.
        ("grpc.so_reuseport", 1 if reuse_port else 0),
    ]


@dataclass
class Application:
    """One running service. `start` binds and begins serving; `stop` drains and releases."""

    settings: Settings
    database_dsn: str | None = None
    port: int = 0
    runtime: Runtime | None = None
    readiness: Readiness | None = None
    metrics: MetricsEndpoint | None = None
    _server: grpc.aio.Server | None = None
    _database: Database | None = None
    callback_shim: CallbackShim | None = None
    # A worker of `serve --workers`: the supervisor checked and holds the ports it shares.
    shared_ports: bool = False
    # Hears what the probes answer after every readiness check (a worker tells its supervisor).
    on_readiness: Callable[[Report], None] | None = None
    _tracing: bool = False
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        """Bind and serve; on any failure, whatever already started is stopped again."""
        if not self.shared_ports:
            ensure_ports_free(self.settings)
        try:
            await self._start()
        except BaseException:
            await self.stop(grace_seconds=0)
            raise

    async def _start(self) -> None:
        settings = self.settings
        self._database = Database(settings, dsn=self.database_dsn)
        await self._database.start()
        self.runtime = await Runtime.create(settings, self._database)
        server = grpc.aio.server(
            interceptors=[
                ServiceInterceptor(
                    TokenPolicy.from_settings(settings.secret, settings.jwt), settings.grpc
                )
            ],
            options=grpc_options(settings, reuse_port=self.shared_ports),
        )
        descriptor_set = load_descriptor_set()
        exposed = service_names(descriptor_set, CONTRACT_PACKAGE)
        register_services(server, self.runtime)
        # Before the server starts: no call waits on another's one-off set-up.
        warm_up(self.runtime, descriptor_set, contract)
        health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        enable_reflection(server, descriptor_set, exposed)
        try:
            self.port = server.add_insecure_port(f"{settings.host}:{settings.port}")
        except RuntimeError:
            raise ConfigError(f"cannot listen on {settings.host}:{settings.port} (PORT)") from None
        checks = [
            ReadinessCheck("database", self._database.probe),
            *self.runtime.readiness_checks(),
        ]
        self.readiness = Readiness(
            health,
            exposed,
            checks,
            interval_seconds=settings.readiness_interval_seconds,
            on_report=self.on_readiness,
        )
        await server.start()
        self._server = server
        if settings.metrics_port:
            try:
                self.metrics = MetricsEndpoint(
                    settings.host, settings.metrics_port, self.readiness.probe_state
                )
            except OSError as error:
                where = f"{settings.host}:{settings.metrics_port} (METRICS_PORT)"
                raise ConfigError(f"cannot listen on {where}: {error.strerror}") from None
        await self.readiness.start()
        await self._start_oauth(self.runtime)
        self._tracing = tracing.start_exporting(settings.tracing)
        log.info(
            "serving",
            host=settings.host,
            port=self.port,
            metrics_port=self.metrics.port if self.metrics else None,
            oauth_callback_port=self.callback_shim.port if self.callback_shim else None,
            services=exposed,
        )

    async def _start_oauth(self, runtime: Runtime) -> None:
        """The browser callback and the keep-alive refresher, when OAuth is configured."""
        oauth = self.settings.oauth
        if not oauth.enabled:
            return
        shim = CallbackShim(
            runtime.oauth_ops.flow,
            oauth.callback_url,
            self.settings.host,
            oauth.callback_port,
            settings=oauth.shim,
            reuse_port=self.shared_ports,
        )
        try:
            await shim.start()
        except OSError as error:
            where = f"{self.settings.host}:{oauth.callback_port} (OAUTH_CALLBACK_PORT)"
            raise ConfigError(f"cannot listen on {where}: {error.strerror}") from None
        self.callback_shim = shim

    async def stop(self, grace_seconds: float | None = None) -> None:
        """NOT_SERVING first, then let in-flight RPCs finish within the grace period."""
        grace = self.settings.shutdown_grace_seconds if grace_seconds is None else grace_seconds
        if self.readiness is not None:
            await self.readiness.enter_shutdown()
        if self._server is not None:
            log.info("draining", grace_seconds=grace)
            await self._server.stop(grace)
            self._server = None
        if self.callback_shim is not None:
            await self.callback_shim.stop()
            self.callback_shim = None
        if self.metrics is not None:
            self.metrics.close()
            self.metrics = None
        if self.runtime is not None:
            await self.runtime.close()
        if self._tracing:
            tracing.stop()  # sends the spans still buffered
            self._tracing = False
        if self._database is not None:
            await self._database.close()
        self._stopped.set()
        log.info("stopped")

    async def wait_stopped(self) -> None:
        await self._stopped.wait()
