"""`integration-api`: serve, mint a token, migrate, manage encryption keys, probe health."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

import structlog

from integration_api.auth.tokens import mint_token, parse_ttl
from integration_api.config import ConfigError, Settings, check_secret_policy, load_settings
from integration_api.errors import ServiceError
from integration_api.observability.logging import configure_logging
from integration_api.server.bootstrap import with_development_defaults
from integration_api.settings_reference import environment_help

log = structlog.get_logger("integration_api.cli")


def _prepared_settings() -> tuple[Settings, list[str]]:
    settings = load_settings()
    configure_logging(settings.log_level, settings.effective_log_format)
    check_secret_policy(settings)  # before anything is created in DATA_DIR
    settings, generated = with_development_defaults(settings)
    check_secret_policy(settings)  # a SECRET kept in DATA_DIR is held to the same policy
    return settings, generated


async def _serve(settings: Settings, generated: list[str]) -> int:
    from integration_api.server.app import Application

    application = Application(settings)
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop_requested.set)
    await application.start()
    if generated:
        log.info(
            "development defaults created",
            files=generated,
            hint="mint a token with: integration-api token --organization ORG --project PROJECT",
        )
    await stop_requested.wait()
    log.info("shutdown requested")
    await application.stop()
    return 0


def command_serve(_arguments: argparse.Namespace) -> int:
    settings, generated = _prepared_settings()
    return asyncio.run(_serve(settings, generated))


def command_token(arguments: argparse.Namespace) -> int:
    settings, _generated = _prepared_settings()
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


def command_migrate(_arguments: argparse.Namespace) -> int:
    from integration_api.server.database import Database

    settings, _generated = _prepared_settings()

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
    from integration_api.server.probe import probe

    return probe(arguments.address, arguments.service, arguments.timeout)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the epilog's layout and shows each option's default after its help."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        shown = action.default not in (None, "", argparse.SUPPRESS, False)
        if action.required:
            text += " (required)"
        elif shown and action.option_strings and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def _with_formatter(parser: argparse.ArgumentParser) -> None:
    """Every (sub)command's help uses `_HelpFormatter`; add_parser does not pass it down."""
    parser.formatter_class = _HelpFormatter
    # argparse offers no public way to walk the subcommands.
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _with_formatter(child)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="integration-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve",
        help="run the gRPC service",
        description="Run the gRPC service, configured from the environment.",
        epilog=environment_help(),
    ).set_defaults(run=command_serve)
    token = commands.add_parser(
        "token",
        help="mint a service token signed with SECRET",
        description="Print a service token (HS256 JWT) signed with SECRET, read like serve does.",
    )
    token.add_argument("--organization", required=True, help="organizationId claim (tenant)")
    token.add_argument("--project", required=True, help="projectId claim (tenant)")
    token.add_argument(
        "--user", default="", help="userId claim, recorded as the actor; empty: none"
    )
    token.add_argument(
        "--ttl", default="1h", help="lifetime: 90s, 15m, 1h or 7d; at most JWT_MAX_TTL_SECONDS"
    )
    token.add_argument(
        "--subject", default="operator-cli", help="sub claim: who acts, for the audit log"
    )
    token.add_argument(
        "--operator",
        action="store_true",
        default=None,
        help='adds the claim roles: ["operator"]: inventory, checks and audit across tenants',
    )
    token.set_defaults(run=command_token)
    commands.add_parser(
        "migrate", help="apply database migrations", description="Apply database migrations."
    ).set_defaults(run=command_migrate)
    probe = commands.add_parser(
        "health-probe",
        help="exit 0 when the server is SERVING",
        description="Ask grpc.health.v1 once; exit 0 when SERVING, 1 otherwise.",
    )
    probe.add_argument("--address", default="127.0.0.1:9004", help="host:port of the service")
    probe.add_argument("--service", default="", help="service name to check; empty: the server")
    probe.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for an answer")
    probe.set_defaults(run=command_health_probe)
    from integration_api.keys_cli import add_key_commands

    add_key_commands(commands)
    _with_formatter(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        result: int = arguments.run(arguments)
    except (ConfigError, ServiceError, ValueError) as error:
        print(f"integration-api: {error}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
