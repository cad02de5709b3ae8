"""The settings every command reads, as the service reads them (development defaults included)."""

from __future__ import annotations

import argparse
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

from integration_api.config import Settings, check_secret_policy, load_settings
from integration_api.observability.logging import configure_logging
from integration_api.server.bootstrap import (
    KeptValue,
    check_production_settings,
    with_development_defaults,
    with_kept_defaults,
)
from integration_api.tls import check_store_tls


def prepared_settings(
    data_dir: Path | None = None,
    needs: Collection[KeptValue] | None = None,
    uses_stores: bool = True,
) -> tuple[Settings, list[str]]:
    """Settings from the environment, logging configured, the secret policy held, and the
    development defaults filled in; also the files created for them (empty when none).

    Only `serve` creates development defaults; every other command passes what it `needs` and
    reads those from the server's DATA_DIR (`data_dir`: --data-dir), or stops saying where it
    looked. A command that `uses_stores` (every one but `token`, which signs with SECRET alone)
    is held to the production and TLS rules of the stores.
    """
    settings = load_settings()
    if data_dir is not None:
        settings = replace(settings, data_dir=data_dir)
    configure_logging(settings.log_level, settings.effective_log_format)
    # Once, here, before `serve --workers` starts a worker: a refusal is one line printed once.
    if uses_stores:
        check_production_settings(settings)
        check_store_tls(settings.postgres, settings.redis)
    check_secret_policy(settings)  # before anything is created in DATA_DIR
    if needs is None:  # serve: the one command that creates what development lacks
        settings, generated = with_development_defaults(settings)
    else:
        settings, generated = with_kept_defaults(settings, needs), []
    check_secret_policy(settings)  # a SECRET kept in DATA_DIR is held to the same policy
    return settings, generated


def add_data_dir_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="the server's data directory (development secrets, embedded PostgreSQL); "
        "default: DATA_DIR, else ./data",
    )
