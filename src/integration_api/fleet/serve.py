"""`serve --workers N` as a whole: shared ports, migrations once, one /metrics, the supervisor."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import structlog

from integration_api.config import ConfigError, Settings
from integration_api.database import Database
from integration_api.fleet.metrics import FleetMetrics
from integration_api.fleet.ports import SharedPorts
from integration_api.fleet.supervisor import Supervisor

log = structlog.get_logger("integration_api.fleet")


def _metrics(settings: Settings, supervisor: Supervisor) -> FleetMetrics | None:
    if not settings.metrics_port:
        return None
    try:
        return FleetMetrics(settings.host, settings.metrics_port, supervisor.probe_state)
    except OSError as error:
        where = f"{settings.host}:{settings.metrics_port} (METRICS_PORT)"
        raise ConfigError(f"cannot listen on {where}: {error.strerror}") from None


async def _migrate_once(database: Database) -> None:
    """Applies migrations before any worker starts. When PostgreSQL is not reachable yet the
    workers start anyway (NOT_SERVING) and the first to reach it migrates, under the same
    advisory lock, so the schema is still brought up to date exactly once."""
    reason = await database.probe()
    if reason:
        log.warning("database not reachable before the workers start", reason=reason)
    await database.close_pool()


async def serve_workers(
    settings: Settings, count: int, on_ports_reserved: Callable[[], None] = lambda: None
) -> int:
    """Runs `count` workers on the shared ports until SIGTERM; returns the exit status."""
    ports = SharedPorts.reserve(settings)
    on_ports_reserved()
    try:
        database = Database(ports.worker_settings)
        await database.start()  # an embedded PostgreSQL lives as long as the supervisor
        try:
            await _migrate_once(database)
            # Each worker learns how many share the pod: its part of a cap while Redis is down.
            worker_settings = dataclasses.replace(ports.worker_settings, workers=count)
            supervisor = Supervisor(worker_settings, count, database.dsn)
            metrics = supervisor.metrics = _metrics(settings, supervisor)
            try:
                return await supervisor.run()
            finally:
                if metrics is not None:
                    metrics.close()
        finally:
            await database.close()
    finally:
        ports.close()
