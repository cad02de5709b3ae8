"""Settings from the environment, with the variable names of the platform's other services.

Nested settings use `__` as the separator (`POSTGRES__AUTH__USER`), as the rest of the platform
does. Every variable, its default and its meaning is listed in `settings_reference` (which
`serve --help` prints) and in README.md; a test holds the three equal.

`values` reads one variable, `sections` holds each part's settings, `loaders` reads them, and
`settings` assembles the whole and holds the SECRET policy.
"""

from integration_api.config.sections import (
    CallGateSettings,
    GrpcLimits,
    JwtSettings,
    OAuthClientSettings,
    OAuthSettings,
    OperationsSettings,
    PostgresSettings,
    RedisSettings,
    TracingSettings,
    UsageSettings,
)
from integration_api.config.settings import (
    MIN_SECRET_BYTES,
    MIN_SECRET_DISTINCT_CHARACTERS,
    REFERENCE_DEFAULT_SECRET,
    Settings,
    check_secret_policy,
    load_settings,
)
from integration_api.config.values import ConfigError

__all__ = [
    "MIN_SECRET_BYTES",
    "MIN_SECRET_DISTINCT_CHARACTERS",
    "REFERENCE_DEFAULT_SECRET",
    "CallGateSettings",
    "ConfigError",
    "GrpcLimits",
    "JwtSettings",
    "OAuthClientSettings",
    "OAuthSettings",
    "OperationsSettings",
    "PostgresSettings",
    "RedisSettings",
    "Settings",
    "TracingSettings",
    "UsageSettings",
    "check_secret_policy",
    "load_settings",
]
