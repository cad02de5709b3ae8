"""One worker of `serve --workers N`: a whole service on the ports its supervisor shares out.

A worker is the single-process service (its own database pool, cache, change listener and
provider client) except that it binds with SO_REUSEPORT and serves no /metrics of its own. It
tells the supervisor what its probes would answer after every readiness check (the supervisor
answers the probes for the fleet) and once it serves, drains on SIGTERM like the single process
does, and drains too when the supervisor disappears, so a killed supervisor leaves no orphan on
the port.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from multiprocessing.connection import Connection

import structlog

from integration_api.config import ConfigError, Settings
from integration_api.errors import ServiceError
from integration_api.observability.logging import configure_logging
from integration_api.server.heap import settle_heap
from integration_api.server.readiness import Report

READY = "ready"

log = structlog.get_logger("integration_api.fleet")


def _tell(link: Connection, report: Report) -> None:
    """Reports what this worker's probes answer; the supervisor's probes answer for the fleet."""
    with contextlib.suppress(OSError):  # the supervisor is gone: this worker drains anyway
        link.send(report)


async def _serve(settings: Settings, database_dsn: str, link: Connection) -> int:
    from integration_api.assembly.app import Application

    application = Application(
        settings,
        database_dsn=database_dsn,
        shared_ports=True,
        on_readiness=lambda state: _tell(link, state),
    )
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop_requested.set)
    await application.start()
    log.info("start-up heap frozen", objects=settle_heap())
    link.send(READY)
    # The supervisor never writes to the link: it turns readable only when the supervisor is gone.
    loop.add_reader(link.fileno(), stop_requested.set)
    await stop_requested.wait()
    loop.remove_reader(link.fileno())
    await application.stop()
    return 0


def run_worker(settings: Settings, database_dsn: str, index: int, link: Connection) -> None:
    """The worker process's entry point; exits 2 with one line when it cannot start."""
    configure_logging(settings.log_level, settings.effective_log_format, background=True)
    structlog.contextvars.bind_contextvars(worker=index)
    try:
        code = asyncio.run(_serve(settings, database_dsn, link))
    except (ConfigError, ServiceError, ValueError) as error:
        print(f"integration-api: {error}", file=sys.stderr, flush=True)
        code = 2
    sys.exit(code)
