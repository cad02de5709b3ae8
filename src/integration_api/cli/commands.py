"""The service's own commands: serve, token, migrate and health-probe."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import structlog

from integration_api.auth.tokens import mint_token, parse_ttl
from integration_api.cli.settings import prepared_settings
from integration_api.config import Settings
from integration_api.observability.logging import configure_logging
from integration_api.server.heap import settle_heap

log = structlog.get_logger("integration_api.cli")


def _log_generated(generated: list[str]) -> None:
    if generated:
        log.info(
            "development defaults created",
            files=generated,
            hint="mint a token with: integration-api token --organization ORG --project PROJECT",
        )


async def _serve(settings: Settings, generated: list[str]) -> int:
    from integration_api.assembly.app import Application

    # Serving: log lines leave the loop, so a stalled log reader never holds a stream.
    configure_logging(settings.log_level, settings.effective_log_format, background=True)
    application = Application(settings)
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop_requested.set)
    await application.start()
    log.info("start-up heap frozen", objects=settle_heap())
    _log_generated(generated)
    await stop_requested.wait()
    log.info("shutdown requested")
    await application.stop()
    return 0


def command_serve(arguments: argparse.Namespace) -> int:
    from integration_api.fleet.cpus import worker_count

    settings, generated = prepared_settings(arguments.data_dir)
    count = worker_count(settings, arguments.workers)
    if count == 1:
        return asyncio.run(_serve(settings, generated))
    from integration_api.fleet.serve import serve_workers

    return asyncio.run(
        serve_workers(settings, count, on_ports_reserved=lambda: _log_generated(generated))
    )


def command_token(arguments: argparse.Namespace) -> int:
    if arguments.operator and not arguments.subject:
        # The server refuses an operator token that names nobody; say so now.
        raise ValueError("--operator needs --subject: the person the audit log names")
    settings, _generated = prepared_settings(
        arguments.data_dir, needs=["secret"], uses_stores=False
    )
    ttl = parse_ttl(arguments.ttl)
    if ttl.total_seconds() > settings.jwt.max_ttl_seconds:
        # The server would refuse such a token; say so now rather than at the first call.
        raise ValueError(
            f"--ttl is longer than JWT_MAX_TTL_SECONDS ({settings.jwt.max_ttl_seconds} s)"
        )
    token = mint_token(
        settings.secret,
        organization_id=arguments.organization,
        project_id=arguments.project,
        user_id=arguments.user or "",
        ttl=ttl,
        subject=arguments.subject,
        audience=settings.jwt.audience,
        issuer=settings.jwt.issuer,
        operator=bool(arguments.operator),
    )
    print(token)
    return 0


def command_migrate(arguments: argparse.Namespace) -> int:
    from integration_api.database import Database

    # Needs no secret; with no POSTGRES__HOST it migrates (or starts) the embedded database.
    settings, _generated = prepared_settings(arguments.data_dir, needs=[])

    async def migrate() -> int:
        database = Database(settings)
        await database.start()
        try:
            reason = await database.probe()
        finally:
            await database.close()
        if reason:
            print(f"migration failed: {reason}", file=sys.stderr)
            return 1
        print("database schema is up to date")
        return 0

    return asyncio.run(migrate())


def command_health_probe(arguments: argparse.Namespace) -> int:
    from integration_api.server.probe import default_address, probe

    address = arguments.address or default_address()
    return probe(address, arguments.service, arguments.timeout)
