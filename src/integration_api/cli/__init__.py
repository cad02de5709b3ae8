"""`integration-api`: serve, mint a token, migrate, manage encryption keys, probe health."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from integration_api.cli.commands import (
    command_health_probe,
    command_migrate,
    command_serve,
    command_token,
)
from integration_api.cli.error_details import add_error_details_command
from integration_api.cli.keys import add_key_commands
from integration_api.cli.settings import add_data_dir_option
from integration_api.config import ConfigError
from integration_api.errors import ServiceError
from integration_api.settings_reference import environment_help


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


def _worker_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError("must be a whole number of at least 1")
    return count


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="integration-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the gRPC service",
        description="Run the gRPC service, configured from the environment.",
        epilog=environment_help(),
    )
    serve.add_argument(
        "--workers",
        type=_worker_count,
        default=None,
        help="worker processes sharing the port under one supervisor; default: WORKERS, else "
        "the CPUs available in production and 1 otherwise",
    )
    add_data_dir_option(serve)
    serve.set_defaults(run=command_serve)
    token = commands.add_parser(
        "token",
        help="mint a service token signed with SECRET",
        description="Print a service token (HS256 JWT) signed with SECRET, read like serve does.",
    )
    token.add_argument("--organization", required=True, help="organizationId claim (tenant)")
    token.add_argument("--project", required=True, help="projectId claim (tenant)")
    token.add_argument(
        "--user", default="", help="userId claim: display only when --subject is given"
    )
    token.add_argument(
        "--ttl", default="1h", help="lifetime: 90s, 15m, 1h or 7d; at most JWT_MAX_TTL_SECONDS"
    )
    token.add_argument(
        "--subject",
        default="",
        help="sub claim: the person who acts, as the audit log and the two-person rule name "
        "them (else --user); required with --operator",
    )
    token.add_argument(
        "--operator",
        action="store_true",
        default=None,
        help='adds the claim roles: ["operator"]: inventory, checks and audit across tenants; '
        "needs --subject",
    )
    add_data_dir_option(token)
    token.set_defaults(run=command_token)
    migrate = commands.add_parser(
        "migrate", help="apply database migrations", description="Apply database migrations."
    )
    add_data_dir_option(migrate)
    migrate.set_defaults(run=command_migrate)
    probe = commands.add_parser(
        "health-probe",
        help="exit 0 when the server is SERVING",
        description="Ask grpc.health.v1 once; exit 0 when SERVING, 1 otherwise.",
    )
    probe.add_argument(
        "--address",
        default=None,
        help="host:port of the service; default: HOST (127.0.0.1 for 0.0.0.0) and PORT (9004)",
    )
    probe.add_argument("--service", default="", help="service name to check; empty: the server")
    probe.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for an answer")
    probe.set_defaults(run=command_health_probe)
    add_key_commands(commands)
    add_error_details_command(commands)
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
