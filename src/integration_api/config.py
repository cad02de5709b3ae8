"""Settings from the environment, with the variable names of the platform's other services.

Nested settings use `__` as the separator (`POSTGRES__AUTH__USER`), as the rest of the platform
does. Every variable, its default and its meaning is listed in README.md; `SETTINGS_TABLE` below
is the source of that table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from integration_api.errors import FailedPrecondition

REFERENCE_DEFAULT_SECRET = "rpd_pks"
MIN_SECRET_BYTES = 32


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable, never its value."""


@dataclass(frozen=True)
class PostgresSettings:
    host: str = ""
    port: int = 5432
    database: str = "integration_api"
    user: str = "postgres"
    password: str = field(default="", repr=False)
    ssl_mode: str = "disable"
    max_connections: int = 10
    min_connections: int = 1

    @property
    def embedded(self) -> bool:
        """No host configured: the service runs its own PostgreSQL in the data directory."""
        return not self.host


@dataclass(frozen=True)
class RedisSettings:
    host: str = ""
    port: int = 6379
    db: int = 0
    user: str = ""
    password: str = field(default="", repr=False)
    key_prefix: str = "integration-api:"
    max_connections: int = 50

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class GrpcLimits:
    max_message_bytes: int = 4 * 1024 * 1024
    max_concurrent_rpcs: int = 1000
    keepalive_time_seconds: int = 60
    keepalive_min_ping_interval_seconds: int = 10


@dataclass(frozen=True)
class OperationsSettings:
    """The background health checker, gated rotations and the embedded Opstage agent."""

    health_check_interval_seconds: float = 300.0
    health_check_jitter_seconds: float = 30.0
    health_check_concurrency: int = 4
    rotation_lifetime_seconds: int = 900
    opstage_url: str = ""
    opstage_registration_token: str = field(default="", repr=False)
    opstage_agent_code: str = "integration-api"
    opstage_timeout_seconds: float = 10.0
    # How often a replica tries to take the leader lease, and the holder checks it still has it.
    lease_retry_seconds: float = 5.0
    # Waits after a failed call to the Opstage backend: up to double the last, capped.
    opstage_backoff_initial_seconds: float = 1.0
    opstage_backoff_max_seconds: float = 120.0

    @property
    def opstage_enabled(self) -> bool:
        return bool(self.opstage_url and self.opstage_registration_token)


@dataclass(frozen=True)
class Settings:
    environment: str = "development"
    host: str = "0.0.0.0"  # noqa: S104 - a service in a container listens on every interface
    port: int = 9004
    metrics_port: int = 9464
    log_level: str = "info"
    log_format: str = ""
    secret: str = field(default="", repr=False)
    data_dir: Path = Path("data")
    crypto_key: str = field(default="", repr=False)
    crypto_decrypt_only_keys: str = field(default="", repr=False)
    cache_ttl_seconds: int = 300
    shutdown_grace_seconds: float = 20.0
    readiness_interval_seconds: float = 2.0
    postgres: PostgresSettings = PostgresSettings()
    redis: RedisSettings = RedisSettings()
    grpc: GrpcLimits = GrpcLimits()
    operations: OperationsSettings = OperationsSettings()

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def effective_log_format(self) -> str:
        return self.log_format or ("json" if self.production else "console")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number") from None


def _postgres(env: Mapping[str, str]) -> PostgresSettings:
    return PostgresSettings(
        host=env.get("POSTGRES__HOST", ""),
        port=_int(env, "POSTGRES__PORT", 5432),
        database=env.get("POSTGRES__DB_NAME", "") or "integration_api",
        user=env.get("POSTGRES__AUTH__USER", "") or "postgres",
        password=env.get("POSTGRES__AUTH__PASSWORD", ""),
        ssl_mode=env.get("POSTGRES__SSL_MODE", "") or "disable",
        max_connections=_int(env, "POSTGRES__MAX_OPEN_CONNECTION", 10),
        min_connections=_int(env, "POSTGRES__MAX_IDEAL_CONNECTION", 1),
    )


def _redis(env: Mapping[str, str]) -> RedisSettings:
    return RedisSettings(
        host=env.get("REDIS__HOST", ""),
        port=_int(env, "REDIS__PORT", 6379),
        db=_int(env, "REDIS__DB", 0),
        user=env.get("REDIS__AUTH__USER", ""),
        password=env.get("REDIS__AUTH__PASSWORD", ""),
        key_prefix=env.get("REDIS__KEY_PREFIX", "") or "integration-api:",
        max_connections=_int(env, "REDIS__MAX_CONNECTION", 50),
    )


def _grpc(env: Mapping[str, str]) -> GrpcLimits:
    return GrpcLimits(
        max_message_bytes=_int(env, "GRPC_MAX_MESSAGE_BYTES", 4 * 1024 * 1024),
        max_concurrent_rpcs=_int(env, "GRPC_MAX_CONCURRENT_RPCS", 1000),
        keepalive_time_seconds=_int(env, "GRPC_KEEPALIVE_TIME_SECONDS", 60),
        keepalive_min_ping_interval_seconds=_int(env, "GRPC_KEEPALIVE_MIN_PING_SECONDS", 10),
    )


def _operations(env: Mapping[str, str]) -> OperationsSettings:
    settings = OperationsSettings(
        health_check_interval_seconds=_float(env, "HEALTH_CHECK_INTERVAL_SECONDS", 300.0),
        health_check_jitter_seconds=_float(env, "HEALTH_CHECK_JITTER_SECONDS", 30.0),
        health_check_concurrency=_int(env, "HEALTH_CHECK_CONCURRENCY", 4),
        rotation_lifetime_seconds=_int(env, "ROTATION_LIFETIME_SECONDS", 900),
        opstage_url=env.get("OPSTAGE_URL", "").strip().rstrip("/"),
        opstage_registration_token=env.get("OPSTAGE_REGISTRATION_TOKEN", "").strip(),
        opstage_agent_code=env.get("OPSTAGE_AGENT_CODE", "").strip() or "integration-api",
        opstage_timeout_seconds=_float(env, "OPSTAGE_TIMEOUT_SECONDS", 10.0),
    )
    if settings.health_check_concurrency < 1:
        raise ConfigError("HEALTH_CHECK_CONCURRENCY must be at least 1")
    if settings.rotation_lifetime_seconds < 1:
        raise ConfigError("ROTATION_LIFETIME_SECONDS must be at least 1")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,79}", settings.opstage_agent_code):
        raise ConfigError("OPSTAGE_AGENT_CODE must be lower-case kebab-case (a-z, 0-9, -)")
    return settings


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Reads every setting; raises ConfigError naming the first bad variable."""
    env = os.environ if env is None else env
    environment = (env.get("ENV", "") or "development").lower()
    if environment not in {"development", "production", "test"}:
        raise ConfigError("ENV must be development, production or test")
    log_format = env.get("LOG_FORMAT", "").lower()
    if log_format not in {"", "json", "console"}:
        raise ConfigError("LOG_FORMAT must be json or console")
    return Settings(
        environment=environment,
        host=env.get("HOST", "") or Settings.host,
        port=_int(env, "PORT", 9004),
        metrics_port=_int(env, "METRICS_PORT", 9464),
        log_level=(env.get("LOG_LEVEL", "") or "info").lower(),
        log_format=log_format,
        secret=env.get("SECRET", ""),
        data_dir=Path(env.get("DATA_DIR", "") or "data"),
        crypto_key=env.get("INTEGRATION_CRYPTO_KEY", ""),
        crypto_decrypt_only_keys=env.get("INTEGRATION_CRYPTO_KEYS", ""),
        cache_ttl_seconds=_int(env, "CACHE_TTL_SECONDS", 300),
        shutdown_grace_seconds=_float(env, "SHUTDOWN_GRACE_SECONDS", 20.0),
        readiness_interval_seconds=_float(env, "READINESS_INTERVAL_SECONDS", 2.0),
        postgres=_postgres(env),
        redis=_redis(env),
        grpc=_grpc(env),
        operations=_operations(env),
    )


def check_secret_policy(settings: Settings) -> None:
    """In production, refuse a SECRET that anyone could guess or brute-force."""
    if not settings.production:
        return
    if not settings.secret:
        raise FailedPrecondition("SECRET is required when ENV=production")
    if settings.secret == REFERENCE_DEFAULT_SECRET:
        raise FailedPrecondition(
            "SECRET is the platform's published default; set a random value of at least "
            f"{MIN_SECRET_BYTES} bytes when ENV=production"
        )
    if len(settings.secret.encode()) < MIN_SECRET_BYTES:
        raise FailedPrecondition(
            f"SECRET is shorter than {MIN_SECRET_BYTES} bytes; HS256 tokens signed with a short "
            "secret can be brute-forced (ENV=production)"
        )
