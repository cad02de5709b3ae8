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
    with_development_defaults,
    with_kept_defaults,
)


def prepared_settings(
    data_dir: Path | None = None, needs: Collection[KeptValue] | None = None
) -> tuple[Settings, list[str]]:
    """Settings from the environment, logging configured, the secret policy held, and the
    development defaults filled in; also the files created for them (empty when none).

    Only `serve` creates development defaults; every other command passes what it `needs` and
    reads those from the server's DATA_DIR (`data_dir`: --data-dir), or stops saying where it
    looked.
    """
    settings = load_settings()
    if data_dir is not None:
        settings = replace(settings, data_dir=data_dir)
    configure_logging(settings.log_level, settings.effective_log_format)
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
