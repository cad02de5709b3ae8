"""`integration-api keys …`: generate, status and rewrap for the encryption keyring.

`status` and `rewrap` read the same settings as the service (POSTGRES__*, INTEGRATION_CRYPTO_KEY,
INTEGRATION_CRYPTO_KEYS), so they see the database and keyring that the service sees. Exit codes:
0 done, 1 the database needs a key the keyring lacks or rows are left on other keys, 2 bad
settings or an unreachable database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from integration_api.cli.settings import add_data_dir_option, prepared_settings
from integration_api.config import Settings
from integration_api.errors import Unavailable
from integration_api.vault import Envelope, Keyring, generate_key

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

DEFAULT_BATCH_SIZE = 100


def command_generate(_arguments: argparse.Namespace) -> int:
    print(generate_key())
    return 0


def _settings_and_keyring(arguments: argparse.Namespace) -> tuple[Settings, Keyring]:
    settings, _generated = prepared_settings(arguments.data_dir, needs=["crypto_key", "database"])
    keyring = Keyring.from_settings(settings.crypto_key, settings.crypto_decrypt_only_keys)
    return settings, keyring


@asynccontextmanager
async def _database_pool(settings: Settings) -> AsyncIterator[ConnectionPool]:
    """The service's database, migrated, for the length of one command."""
    from integration_api.database import Database

    database = Database(settings)
    await database.start()
    try:
        reason = await database.probe()
        if reason:
            raise Unavailable(f"cannot use the database: {reason}")
        yield database.pool
    finally:
        await database.close()


def command_status(arguments: argparse.Namespace) -> int:
    from integration_api.cli.key_reports import format_status
    from integration_api.credentials.key_status import key_status

    settings, keyring = _settings_and_keyring(arguments)

    async def run() -> int:
        async with _database_pool(settings) as pool:
            status = await key_status(pool, keyring)
        print(format_status(status))
        return 1 if status.missing_key_ids else 0

    return asyncio.run(run())


def command_rewrap(arguments: argparse.Namespace) -> int:
    from integration_api.cli.key_reports import ProgressLine, format_rewrap_summary
    from integration_api.credentials.rewrap import rewrap_all

    settings, keyring = _settings_and_keyring(arguments)
    progress = ProgressLine(sys.stderr)

    async def run() -> int:
        async with _database_pool(settings) as pool:
            try:
                report = await rewrap_all(
                    pool,
                    Envelope(keyring),
                    arguments.batch_size,
                    progress,
                    max_rows=arguments.limit,
                )
            finally:
                progress.finish()
        print(format_rewrap_summary(report))
        return 0 if report.complete else 1

    return asyncio.run(run())


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_key_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="manage the encryption keyring")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    actions.add_parser("generate", help="print a new random 256-bit key (base64)").set_defaults(
        run=command_generate
    )
    status = actions.add_parser(
        "status",
        help="count sealed values (credentials, OAuth tokens, agent token) per key id; "
        "exit 1 if the keyring lacks one",
    )
    add_data_dir_option(status)
    status.set_defaults(run=command_status)
    rewrap = actions.add_parser(
        "rewrap", help="re-encrypt every sealed value not under the primary key (resumable)"
    )
    rewrap.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_BATCH_SIZE,
        help="rows read per batch",
    )
    rewrap.add_argument(
        "--limit",
        type=_positive,
        default=None,
        help="stop after this many rows; run again to continue",
    )
    add_data_dir_option(rewrap)
    rewrap.set_defaults(run=command_rewrap)
