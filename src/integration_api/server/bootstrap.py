"""Development defaults that make `integration-api serve` work with no configuration at all.

In development, a missing SECRET or INTEGRATION_CRYPTO_KEY is created once at random and kept
in the data directory (mode 0600), so restarts keep tokens and stored credentials valid. In
production both must be given explicitly; nothing is invented.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Literal

from integration_api.config import ConfigError, Settings
from integration_api.errors import FailedPrecondition
from integration_api.vault import Keyring, generate_key, parse_key
from integration_api.vault.keyring import PRIMARY_SETTING
from integration_api.vault.keys import require_random_looking

SECRET_FILE = "service-secret"
CRYPTO_KEY_FILE = "crypto-key"


def _read_or_create(path: Path, make: str) -> tuple[str, bool]:
    """The value kept in `path`, and whether it was created just now."""
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(make + "\n")
    return make, True


def check_production_settings(settings: Settings) -> None:
    """What a production start refuses before anything runs (and before `serve --workers`
    starts a worker): no embedded PostgreSQL, whose data would die with the container, and
    a keyring given explicitly whose primary key is random. Messages never show a key."""
    if not settings.production:
        return
    if settings.postgres.embedded:
        raise FailedPrecondition(
            "POSTGRES__HOST is required when ENV=production; without it an embedded PostgreSQL "
            "would keep the data inside the container"
        )
    if not settings.crypto_key:
        raise FailedPrecondition("INTEGRATION_CRYPTO_KEY is required when ENV=production")
    Keyring.from_settings(settings.crypto_key, settings.crypto_decrypt_only_keys)
    # Only the primary: a weak old key must stay usable as decrypt-only to rotate away from it.
    primary = parse_key(settings.crypto_key, setting=PRIMARY_SETTING)
    require_random_looking(primary, setting=PRIMARY_SETTING)


def with_development_defaults(settings: Settings) -> tuple[Settings, list[str]]:
    """Fills SECRET and INTEGRATION_CRYPTO_KEY in development; returns the files it created
    (empty when they were already there from an earlier start)."""
    created: list[str] = []
    if settings.production:
        if not settings.crypto_key:
            raise FailedPrecondition("INTEGRATION_CRYPTO_KEY is required when ENV=production")
        return settings, created
    if not settings.secret:
        path = settings.data_dir / SECRET_FILE
        secret, new = _read_or_create(path, secrets.token_urlsafe(48))
        settings = replace(settings, secret=secret)
        created += [str(path)] if new else []
    if not settings.crypto_key:
        path = settings.data_dir / CRYPTO_KEY_FILE
        key, new = _read_or_create(path, generate_key())
        settings = replace(settings, crypto_key=key)
        created += [str(path)] if new else []
    return settings, created


# What a command other than `serve` reads from the server's data directory.
KeptValue = Literal["secret", "crypto_key", "database"]
# Where `database` keeps the embedded PostgreSQL inside DATA_DIR.
EMBEDDED_DATABASE_DIR = "postgres"


def with_kept_defaults(settings: Settings, needs: Collection[KeptValue]) -> Settings:
    """Fills what `needs` names from the values `serve` kept in DATA_DIR, and creates nothing.

    A command run outside the server's data directory would otherwise make a second one with a
    new SECRET, key and database; it stops instead, naming the directory it looked in.
    """
    if settings.production:  # nothing is kept in DATA_DIR: each value is given explicitly
        if "crypto_key" in needs and not settings.crypto_key:
            raise FailedPrecondition("INTEGRATION_CRYPTO_KEY is required when ENV=production")
        return settings
    data_dir = settings.data_dir.absolute()
    if "secret" in needs and not settings.secret:
        settings = replace(settings, secret=_kept(data_dir, SECRET_FILE, "SECRET"))
    if "crypto_key" in needs and not settings.crypto_key:
        key = _kept(data_dir, CRYPTO_KEY_FILE, "INTEGRATION_CRYPTO_KEY")
        settings = replace(settings, crypto_key=key)
    embedded = settings.postgres.embedded
    if "database" in needs and embedded and not (data_dir / EMBEDDED_DATABASE_DIR).is_dir():
        what = f"no embedded database ({EMBEDDED_DATABASE_DIR}/)"
        raise ConfigError(_not_kept("POSTGRES__HOST", data_dir, what))
    return settings


def _kept(data_dir: Path, name: str, setting: str) -> str:
    path = data_dir / name
    if not path.is_file():
        raise ConfigError(_not_kept(setting, data_dir, f"no {name}"))
    return path.read_text().strip()


def _not_kept(setting: str, data_dir: Path, what: str) -> str:
    return (
        f"{setting} is not set and DATA_DIR ({data_dir}) has {what}: this command uses what "
        "`integration-api serve` created in its data directory and creates nothing itself. "
        "Point it at the server's with DATA_DIR=/path/to/data or --data-dir /path/to/data, "
        f"or set {setting}."
    )
