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
from integration_api.providers.egress import parse_allow_list, split_allow_setting
from integration_api.providers.limits import DEFAULT_LIMITS, UpstreamLimits
from integration_api.speech.limits import DEFAULT_SPEECH_LIMITS, SpeechLimits

REFERENCE_DEFAULT_SECRET = "rpd_pks"
MIN_SECRET_BYTES = 32
# A random secret of 32 characters uses 20 or more; "aaaa…" or "abab…" is not a secret.
MIN_SECRET_DISTINCT_CHARACTERS = 8


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
class JwtSettings:
    """Optional claims a service token must carry, and the longest lifetime it may have."""

    audience: str = ""
    issuer: str = ""
    # The platform mints tokens for 24 hours; anything longer-lived is refused.
    max_ttl_seconds: int = 86_400


@dataclass(frozen=True)
class GrpcLimits:
    max_message_bytes: int = 4 * 1024 * 1024
    max_concurrent_rpcs: int = 1000
    keepalive_time_seconds: int = 60
    keepalive_min_ping_interval_seconds: int = 10


@dataclass(frozen=True)
class OAuthClientSettings:
    """One provider's OAuth client registration and the endpoints it talks to.

    The endpoint overrides exist for operators who front a provider with their own gateway and
    for tests; empty means the provider's public endpoint.
    """

    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    authorization_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    revoke_url: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass(frozen=True)
class OAuthSettings:
    callback_url: str = ""
    callback_port: int = 9005
    redirect_allow: tuple[str, ...] = ()
    refresh_margin_seconds: int = 900
    keepalive_interval_seconds: int = 3600
    google: OAuthClientSettings = OAuthClientSettings()
    github: OAuthClientSettings = OAuthClientSettings()

    @property
    def enabled(self) -> bool:
        """Without a callback URL there is nowhere to send the user back to."""
        return bool(self.callback_url)


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
class TracingSettings:
    """OpenTelemetry tracing: off (and free) unless an OTLP endpoint is configured."""

    endpoint: str = ""
    service_name: str = "integration-api"
    # Of the traces this service starts itself; a caller's sampling decision is always kept.
    sample_ratio: float = 1.0

    @property
    def enabled(self) -> bool:
        return bool(self.endpoint)


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
    postgres: PostgresSettings = PostgresSettings()
    redis: RedisSettings = RedisSettings()
    grpc: GrpcLimits = GrpcLimits()
    jwt: JwtSettings = JwtSettings()
    # EGRESS_ALLOW entries: hosts, `*.domain` wildcards, addresses and ranges every provider
    # may reach besides its own hosts (see providers/egress.py).
    egress_allow: tuple[str, ...] = ()
    upstream: UpstreamLimits = DEFAULT_LIMITS
    speech: SpeechLimits = DEFAULT_SPEECH_LIMITS
    oauth: OAuthSettings = OAuthSettings()
    operations: OperationsSettings = OperationsSettings()
    tracing: TracingSettings = TracingSettings()

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


def _jwt(env: Mapping[str, str]) -> JwtSettings:
    max_ttl_seconds = _int(env, "JWT_MAX_TTL_SECONDS", JwtSettings.max_ttl_seconds)
    if max_ttl_seconds <= 0:
        raise ConfigError("JWT_MAX_TTL_SECONDS must be a positive number of seconds")
    return JwtSettings(
        audience=env.get("JWT_AUDIENCE", "").strip(),
        issuer=env.get("JWT_ISSUER", "").strip(),
        max_ttl_seconds=max_ttl_seconds,
    )


def _egress_allow(env: Mapping[str, str]) -> tuple[str, ...]:
    entries = split_allow_setting(env.get("EGRESS_ALLOW", ""))
    try:
        parse_allow_list(entries)
    except ValueError as problem:
        raise ConfigError(f"EGRESS_ALLOW {problem}") from None
    return entries


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero")
    return value


def _non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 0:
        raise ConfigError(f"{name} must be zero or more")
    return value


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if not value > 0:
        raise ConfigError(f"{name} must be greater than zero")
    return value


def _upstream(env: Mapping[str, str]) -> UpstreamLimits:
    """Every bound on provider answers and calls; each variable defaults to `UpstreamLimits()`."""
    defaults = DEFAULT_LIMITS
    return UpstreamLimits(
        max_body_bytes=_positive_int(env, "UPSTREAM_MAX_BODY_BYTES", defaults.max_body_bytes),
        max_error_body_bytes=_positive_int(
            env, "UPSTREAM_MAX_ERROR_BODY_BYTES", defaults.max_error_body_bytes
        ),
        max_sse_line_bytes=_positive_int(
            env, "UPSTREAM_MAX_SSE_LINE_BYTES", defaults.max_sse_line_bytes
        ),
        max_sse_event_bytes=_positive_int(
            env, "UPSTREAM_MAX_SSE_EVENT_BYTES", defaults.max_sse_event_bytes
        ),
        max_tool_calls=_positive_int(env, "UPSTREAM_MAX_TOOL_CALLS", defaults.max_tool_calls),
        max_tool_arguments_bytes=_positive_int(
            env, "UPSTREAM_MAX_TOOL_ARGUMENTS_BYTES", defaults.max_tool_arguments_bytes
        ),
        max_answer_seconds=_positive_float(
            env, "UPSTREAM_MAX_ANSWER_SECONDS", defaults.max_answer_seconds
        ),
        max_event_gap_seconds=_positive_float(
            env, "UPSTREAM_MAX_EVENT_GAP_SECONDS", defaults.max_event_gap_seconds
        ),
        max_connections=_positive_int(env, "UPSTREAM_MAX_CONNECTIONS", defaults.max_connections),
        max_connections_per_host=_positive_int(
            env, "UPSTREAM_MAX_CONNECTIONS_PER_HOST", defaults.max_connections_per_host
        ),
        max_calls_per_tenant=_positive_int(
            env, "UPSTREAM_MAX_CALLS_PER_TENANT", defaults.max_calls_per_tenant
        ),
        max_embed_inputs=_positive_int(env, "EMBED_MAX_INPUTS", defaults.max_embed_inputs),
        max_embed_characters=_positive_int(
            env, "EMBED_MAX_CHARACTERS", defaults.max_embed_characters
        ),
    )


def _speech(env: Mapping[str, str]) -> SpeechLimits:
    """The bounds of speech sessions; each variable defaults to `SpeechLimits()`."""
    defaults = DEFAULT_SPEECH_LIMITS
    return SpeechLimits(
        max_frame_bytes=_positive_int(env, "SPEECH_MAX_FRAME_BYTES", defaults.max_frame_bytes),
        max_audio_bytes=_positive_int(env, "SPEECH_MAX_AUDIO_BYTES", defaults.max_audio_bytes),
        max_sessions_per_tenant=_positive_int(
            env, "SPEECH_MAX_SESSIONS_PER_TENANT", defaults.max_sessions_per_tenant
        ),
        max_text_characters=_positive_int(
            env, "SPEECH_MAX_TEXT_CHARACTERS", defaults.max_text_characters
        ),
        keepalive_seconds=_positive_float(
            env, "SPEECH_KEEPALIVE_SECONDS", defaults.keepalive_seconds
        ),
    )


def _oauth_client(env: Mapping[str, str], prefix: str) -> OAuthClientSettings:
    return OAuthClientSettings(
        client_id=env.get(f"{prefix}_CLIENT_ID", "").strip(),
        client_secret=env.get(f"{prefix}_CLIENT_SECRET", "").strip(),
        authorization_url=env.get(f"{prefix}_AUTHORIZATION_URL", "").strip(),
        token_url=env.get(f"{prefix}_TOKEN_URL", "").strip(),
        userinfo_url=env.get(f"{prefix}_USERINFO_URL", "").strip(),
        revoke_url=env.get(f"{prefix}_REVOKE_URL", "").strip(),
    )


def _oauth(env: Mapping[str, str]) -> OAuthSettings:
    callback_url = env.get("OAUTH_CALLBACK_URL", "").strip().rstrip("/")
    if callback_url and not callback_url.startswith(("https://", "http://")):
        raise ConfigError("OAUTH_CALLBACK_URL must be an http(s) URL")
    allowed = env.get("OAUTH_REDIRECT_ALLOW", "")
    return OAuthSettings(
        callback_url=callback_url,
        callback_port=_int(env, "OAUTH_CALLBACK_PORT", 9005),
        redirect_allow=tuple(entry.strip() for entry in allowed.split(",") if entry.strip()),
        refresh_margin_seconds=_int(env, "OAUTH_REFRESH_MARGIN_SECONDS", 900),
        keepalive_interval_seconds=_int(env, "OAUTH_KEEPALIVE_INTERVAL_SECONDS", 3600),
        google=_oauth_client(env, "GOOGLE_OAUTH"),
        github=_oauth_client(env, "GITHUB_OAUTH"),
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


def _tracing(env: Mapping[str, str]) -> TracingSettings:
    endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if endpoint and not endpoint.startswith(("https://", "http://")):
        raise ConfigError("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL")
    settings = TracingSettings(
        endpoint=endpoint,
        service_name=env.get("OTEL_SERVICE_NAME", "").strip() or TracingSettings.service_name,
        sample_ratio=_float(env, "OTEL_TRACES_SAMPLER_ARG", 1.0),
    )
    if not 0.0 <= settings.sample_ratio <= 1.0:
        raise ConfigError("OTEL_TRACES_SAMPLER_ARG must be between 0 and 1")
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
        workers=_non_negative_int(env, "WORKERS", 0),
        postgres=_postgres(env),
        redis=_redis(env),
        grpc=_grpc(env),
        jwt=_jwt(env),
        egress_allow=_egress_allow(env),
        upstream=_upstream(env),
        speech=_speech(env),
        oauth=_oauth(env),
        operations=_operations(env),
        tracing=_tracing(env),
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
