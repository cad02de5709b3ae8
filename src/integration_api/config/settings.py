"""The service's settings as a whole: read from the environment, and the SECRET policy."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from integration_api.config import loaders
from integration_api.config.sections import (
    CallGateSettings,
    GrpcLimits,
    JwtSettings,
    OAuthSettings,
    OperationsSettings,
    PostgresSettings,
    RedisSettings,
    TracingSettings,
    UsageSettings,
)
from integration_api.config.speech_limits import DEFAULT_SPEECH_LIMITS, SpeechLimits
from integration_api.config.values import (
    ConfigError,
    read_float,
    read_int,
    read_non_negative_int,
)
from integration_api.errors import FailedPrecondition
from integration_api.upstream.limits import DEFAULT_LIMITS, UpstreamLimits

REFERENCE_DEFAULT_SECRET = "rpd_pks"
MIN_SECRET_BYTES = 32
# A random secret of 32 characters uses 20 or more; "aaaa…" or "abab…" is not a secret.
MIN_SECRET_DISTINCT_CHARACTERS = 8
LOG_LEVELS = ("debug", "info", "warning", "error")


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
    # Worker processes of `serve`; 0 means as many as the CPUs available in production, else 1.
    workers: int = 0
    postgres: PostgresSettings = field(default_factory=PostgresSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    grpc: GrpcLimits = field(default_factory=GrpcLimits)
    jwt: JwtSettings = field(default_factory=JwtSettings)
    # EGRESS_ALLOW entries: hosts, `*.domain` wildcards, addresses and ranges every provider
    # may reach besides its own hosts (see providers/egress.py).
    egress_allow: tuple[str, ...] = ()
    upstream: UpstreamLimits = DEFAULT_LIMITS
    speech: SpeechLimits = DEFAULT_SPEECH_LIMITS
    oauth: OAuthSettings = field(default_factory=OAuthSettings)
    operations: OperationsSettings = field(default_factory=OperationsSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    gate: CallGateSettings = field(default_factory=CallGateSettings)
    usage: UsageSettings = field(default_factory=UsageSettings)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def effective_log_format(self) -> str:
        return self.log_format or ("json" if self.production else "console")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Reads every setting; raises ConfigError naming the first bad variable."""
    env = os.environ if env is None else env
    environment = (env.get("ENV", "") or "development").lower()
    if environment not in {"development", "production", "test"}:
        raise ConfigError("ENV must be development, production or test")
    log_format = env.get("LOG_FORMAT", "").strip().lower()
    if log_format not in {"", "json", "console"}:
        raise ConfigError("LOG_FORMAT must be json or console")
    log_level = env.get("LOG_LEVEL", "").strip().lower() or "info"
    if log_level not in LOG_LEVELS:
        raise ConfigError("LOG_LEVEL must be debug, info, warning or error")
    settings = Settings(
        environment=environment,
        host=env.get("HOST", "") or Settings.host,
        port=read_int(env, "PORT", 9004),
        metrics_port=read_int(env, "METRICS_PORT", 9464),
        log_level=log_level,
        log_format=log_format,
        secret=env.get("SECRET", ""),
        data_dir=Path(env.get("DATA_DIR", "") or "data"),
        crypto_key=env.get("INTEGRATION_CRYPTO_KEY", ""),
        crypto_decrypt_only_keys=env.get("INTEGRATION_CRYPTO_KEYS", ""),
        cache_ttl_seconds=read_int(env, "CACHE_TTL_SECONDS", 300),
        shutdown_grace_seconds=read_float(env, "SHUTDOWN_GRACE_SECONDS", 20.0),
        readiness_interval_seconds=read_float(env, "READINESS_INTERVAL_SECONDS", 2.0),
        workers=read_non_negative_int(env, "WORKERS", 0),
        postgres=loaders.postgres_settings(env),
        redis=loaders.redis_settings(env),
        grpc=loaders.grpc_limits(env),
        jwt=loaders.jwt_settings(env),
        egress_allow=loaders.egress_allow(env),
        upstream=loaders.upstream_limits(env),
        speech=loaders.speech_limits(env),
        oauth=loaders.oauth_settings(env),
        operations=loaders.operations_settings(env),
        tracing=loaders.tracing_settings(env),
        gate=loaders.call_gate_settings(env),
        usage=loaders.usage_settings(env),
    )
    check_stream_grace(settings)
    return settings


def check_stream_grace(settings: Settings) -> None:
    """A connection past its age must let the longest speech session on it finish."""
    if settings.grpc.max_connection_age_grace_seconds < settings.speech.max_session_seconds:
        raise ConfigError(
            "GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS must be at least SPEECH_MAX_SESSION_SECONDS, "
            "so that a live speech session on an old connection can finish"
        )


def check_secret_policy(settings: Settings) -> None:
    """Refuse a SECRET that anyone could guess or brute-force, in every mode.

    Tokens signed with a weak secret let anyone act as any tenant, and development servers get
    exposed too. Only an absent SECRET is allowed outside production: development then creates
    a random one (`server.bootstrap`). Messages never include the value.
    """
    secret = settings.secret
    if not secret:
        if settings.production:
            raise FailedPrecondition("SECRET is required when ENV=production")
        return
    advice = f"set a random value of at least {MIN_SECRET_BYTES} bytes"
    if secret == REFERENCE_DEFAULT_SECRET:
        raise FailedPrecondition(f"SECRET is the platform's published default; {advice}")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise FailedPrecondition(
            f"SECRET is shorter than {MIN_SECRET_BYTES} bytes; HS256 tokens signed with a short "
            f"secret can be brute-forced; {advice}"
        )
    if len(set(secret)) < MIN_SECRET_DISTINCT_CHARACTERS:
        raise FailedPrecondition(
            f"SECRET repeats fewer than {MIN_SECRET_DISTINCT_CHARACTERS} distinct characters, "
            f"so it is easy to guess; {advice}"
        )
