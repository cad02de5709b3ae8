"""`integration-api keys …`: generate, status and rewrap for the encryption keyring."""

from __future__ import annotations

import argparse

from integration_api.vault import generate_key


def command_generate(_arguments: argparse.Namespace) -> int:
    print(generate_key())
    return 0


def add_key_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="manage the encryption keyring")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    actions.add_parser("generate", help="print a new random 256-bit key (base64)").set_defaults(
        run=command_generate
    )
