"""The settings every command reads, as the service reads them (development defaults included)."""

from __future__ import annotations

from integration_api.config import Settings, check_secret_policy, load_settings
from integration_api.observability.logging import configure_logging
from integration_api.server.bootstrap import check_production_settings, with_development_defaults
from integration_api.tls import check_store_tls


def prepared_settings() -> tuple[Settings, list[str]]:
    """Settings from the environment, logging configured, the secret policy held, and the
    development defaults filled in; also the files created for them (empty when none)."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.effective_log_format)
    # Once, here, before `serve --workers` starts a worker: a refusal is one line printed once.
    check_production_settings(settings)
    check_store_tls(settings.postgres, settings.redis)
    check_secret_policy(settings)  # before anything is created in DATA_DIR
    settings, generated = with_development_defaults(settings)
    check_secret_policy(settings)  # a SECRET kept in DATA_DIR is held to the same policy
    return settings, generated
