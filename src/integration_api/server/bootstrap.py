"""Development defaults that make `integration-api serve` work with no configuration at all.

In development, a missing SECRET or INTEGRATION_CRYPTO_KEY is created once at random and kept
in the data directory (mode 0600), so restarts keep tokens and stored credentials valid. In
production both must be given explicitly; nothing is invented.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from pathlib import Path

from integration_api.config import Settings
from integration_api.errors import FailedPrecondition
from integration_api.vault import generate_key

SECRET_FILE = "service-secret"
CRYPTO_KEY_FILE = "crypto-key"


def _read_or_create(path: Path, make: str) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(make + "\n")
    return make


def with_development_defaults(settings: Settings) -> tuple[Settings, list[str]]:
    """Fills SECRET and INTEGRATION_CRYPTO_KEY in development; returns what it filled."""
    filled: list[str] = []
    if settings.production:
        if not settings.crypto_key:
            raise FailedPrecondition("INTEGRATION_CRYPTO_KEY is required when ENV=production")
        return settings, filled
    if not settings.secret:
        secret = _read_or_create(settings.data_dir / SECRET_FILE, secrets.token_urlsafe(48))
        settings = replace(settings, secret=secret)
        filled.append(str(settings.data_dir / SECRET_FILE))
    if not settings.crypto_key:
        key = _read_or_create(settings.data_dir / CRYPTO_KEY_FILE, generate_key())
        settings = replace(settings, crypto_key=key)
        filled.append(str(settings.data_dir / CRYPTO_KEY_FILE))
    return settings, filled
