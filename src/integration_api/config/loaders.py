"""Each part's settings read from the environment (the variable names of the platform)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from integration_api.config.callback_shim import callback_shim_settings
from integration_api.config.sections import (
    DEFAULT_GITHUB_SCOPES_ALLOW,
    DEFAULT_GOOGLE_SCOPES_ALLOW,
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
from integration_api.config.speech_limits import DEFAULT_SPEECH_LIMITS, SpeechLimits
from integration_api.config.values import (
    ConfigError,
    read_bool,
    read_float,
    read_int,
    read_non_negative_int,
    read_positive_float,
    read_positive_int,
)
from integration_api.upstream.allow_list import parse_allow_list, split_allow_setting
from integration_api.upstream.limits import DEFAULT_LIMITS, UpstreamLimits

# Past five minutes a leeway stops being clock skew and starts extending every token's life.
MAX_JWT_LEEWAY_SECONDS = 300


def postgres_settings(env: Mapping[str, str]) -> PostgresSettings:
    return PostgresSettings(
        host=env.get("POSTGRES__HOST", ""),
        port=read_int(env, "POSTGRES__PORT", 5432),
        database=env.get("POSTGRES__DB_NAME", "") or "integration_api",
        user=env.get("POSTGRES__AUTH__USER", "") or "postgres",
        password=env.get("POSTGRES__AUTH__PASSWORD", ""),
        ssl_mode=env.get("POSTGRES__SSL_MODE", "") or "disable",
        ssl_root_cert=env.get("POSTGRES__SSL_ROOT_CERT", "").strip(),
        ssl_cert=env.get("POSTGRES__SSL_CERT", "").strip(),
        ssl_key=env.get("POSTGRES__SSL_KEY", "").strip(),
        max_connections=read_int(env, "POSTGRES__MAX_OPEN_CONNECTION", 10),
        min_connections=read_int(env, "POSTGRES__MAX_IDEAL_CONNECTION", 1),
    )


def redis_settings(env: Mapping[str, str]) -> RedisSettings:
    return RedisSettings(
        host=env.get("REDIS__HOST", ""),
        port=read_int(env, "REDIS__PORT", 6379),
        db=read_int(env, "REDIS__DB", 0),
        user=env.get("REDIS__AUTH__USER", ""),
        password=env.get("REDIS__AUTH__PASSWORD", ""),
        key_prefix=env.get("REDIS__KEY_PREFIX", "") or "integration-api:",
        max_connections=read_int(env, "REDIS__MAX_CONNECTION", 50),
        tls=read_bool(env, "REDIS__TLS", False),
        tls_ca_cert=env.get("REDIS__TLS_CA_CERT", "").strip(),
        tls_cert=env.get("REDIS__TLS_CERT", "").strip(),
        tls_key=env.get("REDIS__TLS_KEY", "").strip(),
    )


def grpc_limits(env: Mapping[str, str]) -> GrpcLimits:
    """The gRPC port's bounds; each variable defaults to `GrpcLimits()`."""
    d = GrpcLimits()
    return GrpcLimits(
        max_message_bytes=read_int(env, "GRPC_MAX_MESSAGE_BYTES", d.max_message_bytes),
        max_concurrent_rpcs=read_positive_int(
            env, "GRPC_MAX_CONCURRENT_RPCS", d.max_concurrent_rpcs
        ),
        max_watch_streams=read_positive_int(env, "GRPC_MAX_WATCH_STREAMS", d.max_watch_streams),
        max_watch_streams_per_peer=read_positive_int(
            env, "GRPC_MAX_WATCH_STREAMS_PER_PEER", d.max_watch_streams_per_peer
        ),
        max_reflection_streams=read_positive_int(
            env, "GRPC_MAX_REFLECTION_STREAMS", d.max_reflection_streams
        ),
        max_reflection_streams_per_peer=read_positive_int(
            env, "GRPC_MAX_REFLECTION_STREAMS_PER_PEER", d.max_reflection_streams_per_peer
        ),
        max_opening_streams_per_tenant=read_positive_int(
            env, "GRPC_MAX_OPENING_STREAMS_PER_TENANT", d.max_opening_streams_per_tenant
        ),
        max_streams_per_connection=read_positive_int(
            env, "GRPC_MAX_STREAMS_PER_CONNECTION", d.max_streams_per_connection
        ),
        max_connection_age_seconds=read_positive_float(
            env, "GRPC_MAX_CONNECTION_AGE_SECONDS", d.max_connection_age_seconds
        ),
        max_connection_age_grace_seconds=read_positive_float(
            env, "GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS", d.max_connection_age_grace_seconds
        ),
        max_connection_idle_seconds=read_positive_float(
            env, "GRPC_MAX_CONNECTION_IDLE_SECONDS", d.max_connection_idle_seconds
        ),
        keepalive_time_seconds=read_int(
            env, "GRPC_KEEPALIVE_TIME_SECONDS", d.keepalive_time_seconds
        ),
        keepalive_min_ping_interval_seconds=read_int(
            env, "GRPC_KEEPALIVE_MIN_PING_SECONDS", d.keepalive_min_ping_interval_seconds
        ),
        keepalive_permit_without_calls=read_bool(
            env, "GRPC_KEEPALIVE_PERMIT_WITHOUT_CALLS", d.keepalive_permit_without_calls
        ),
        keepalive_max_ping_strikes=read_non_negative_int(
            env, "GRPC_KEEPALIVE_MAX_PING_STRIKES", d.keepalive_max_ping_strikes
        ),
        first_message_seconds=read_positive_float(
            env, "GRPC_FIRST_MESSAGE_SECONDS", d.first_message_seconds
        ),
    )


def jwt_settings(env: Mapping[str, str]) -> JwtSettings:
    max_ttl_seconds = read_int(env, "JWT_MAX_TTL_SECONDS", JwtSettings.max_ttl_seconds)
    if max_ttl_seconds <= 0:
        raise ConfigError("JWT_MAX_TTL_SECONDS must be a positive number of seconds")
    leeway_seconds = read_int(env, "JWT_LEEWAY_SECONDS", JwtSettings.leeway_seconds)
    if not 0 <= leeway_seconds <= MAX_JWT_LEEWAY_SECONDS:
        raise ConfigError(
            f"JWT_LEEWAY_SECONDS must be between 0 and {MAX_JWT_LEEWAY_SECONDS} seconds"
        )
    return JwtSettings(
        audience=env.get("JWT_AUDIENCE", "").strip(),
        issuer=env.get("JWT_ISSUER", "").strip(),
        max_ttl_seconds=max_ttl_seconds,
        leeway_seconds=leeway_seconds,
    )


def egress_allow(env: Mapping[str, str]) -> tuple[str, ...]:
    entries = split_allow_setting(env.get("EGRESS_ALLOW", ""))
    try:
        parse_allow_list(entries)
    except ValueError as problem:
        raise ConfigError(f"EGRESS_ALLOW {problem}") from None
    return entries


def upstream_limits(env: Mapping[str, str]) -> UpstreamLimits:
    """Every bound on provider answers and calls; each variable defaults to `UpstreamLimits()`."""
    defaults = DEFAULT_LIMITS
    return UpstreamLimits(
        max_body_bytes=read_positive_int(env, "UPSTREAM_MAX_BODY_BYTES", defaults.max_body_bytes),
        max_error_body_bytes=read_positive_int(
            env, "UPSTREAM_MAX_ERROR_BODY_BYTES", defaults.max_error_body_bytes
        ),
        max_sse_line_bytes=read_positive_int(
            env, "UPSTREAM_MAX_SSE_LINE_BYTES", defaults.max_sse_line_bytes
        ),
        max_sse_event_bytes=read_positive_int(
            env, "UPSTREAM_MAX_SSE_EVENT_BYTES", defaults.max_sse_event_bytes
        ),
        max_tool_calls=read_positive_int(env, "UPSTREAM_MAX_TOOL_CALLS", defaults.max_tool_calls),
        max_tool_arguments_bytes=read_positive_int(
            env, "UPSTREAM_MAX_TOOL_ARGUMENTS_BYTES", defaults.max_tool_arguments_bytes
        ),
        max_answer_seconds=read_positive_float(
            env, "UPSTREAM_MAX_ANSWER_SECONDS", defaults.max_answer_seconds
        ),
        max_event_gap_seconds=read_positive_float(
            env, "UPSTREAM_MAX_EVENT_GAP_SECONDS", defaults.max_event_gap_seconds
        ),
        max_connections=read_positive_int(
            env, "UPSTREAM_MAX_CONNECTIONS", defaults.max_connections
        ),
        max_connections_per_host=read_positive_int(
            env, "UPSTREAM_MAX_CONNECTIONS_PER_HOST", defaults.max_connections_per_host
        ),
        max_calls_per_tenant=read_positive_int(
            env, "UPSTREAM_MAX_CALLS_PER_TENANT", defaults.max_calls_per_tenant
        ),
        max_embed_inputs=read_positive_int(env, "EMBED_MAX_INPUTS", defaults.max_embed_inputs),
        max_embed_characters=read_positive_int(
            env, "EMBED_MAX_CHARACTERS", defaults.max_embed_characters
        ),
    )


def speech_limits(env: Mapping[str, str]) -> SpeechLimits:
    """The bounds of speech sessions; each variable defaults to `SpeechLimits()`."""
    defaults = DEFAULT_SPEECH_LIMITS
    return SpeechLimits(
        max_frame_bytes=read_positive_int(env, "SPEECH_MAX_FRAME_BYTES", defaults.max_frame_bytes),
        max_audio_bytes=read_positive_int(env, "SPEECH_MAX_AUDIO_BYTES", defaults.max_audio_bytes),
        max_sessions_per_tenant=read_positive_int(
            env, "SPEECH_MAX_SESSIONS_PER_TENANT", defaults.max_sessions_per_tenant
        ),
        max_text_characters=read_positive_int(
            env, "SPEECH_MAX_TEXT_CHARACTERS", defaults.max_text_characters
        ),
        keepalive_seconds=read_positive_float(
            env, "SPEECH_KEEPALIVE_SECONDS", defaults.keepalive_seconds
        ),
        max_session_seconds=read_positive_float(
            env, "SPEECH_MAX_SESSION_SECONDS", defaults.max_session_seconds
        ),
        max_caller_idle_seconds=read_positive_float(
            env, "SPEECH_MAX_CALLER_IDLE_SECONDS", defaults.max_caller_idle_seconds
        ),
    )


def oauth_client_settings(env: Mapping[str, str], prefix: str) -> OAuthClientSettings:
    return OAuthClientSettings(
        client_id=env.get(f"{prefix}_CLIENT_ID", "").strip(),
        client_secret=env.get(f"{prefix}_CLIENT_SECRET", "").strip(),
        authorization_url=env.get(f"{prefix}_AUTHORIZATION_URL", "").strip(),
        token_url=env.get(f"{prefix}_TOKEN_URL", "").strip(),
        userinfo_url=env.get(f"{prefix}_USERINFO_URL", "").strip(),
        revoke_url=env.get(f"{prefix}_REVOKE_URL", "").strip(),
    )


def oauth_settings(env: Mapping[str, str]) -> OAuthSettings:
    callback_url = env.get("OAUTH_CALLBACK_URL", "").strip().rstrip("/")
    if callback_url and not callback_url.startswith(("https://", "http://")):
        raise ConfigError("OAUTH_CALLBACK_URL must be an http(s) URL")
    allowed = env.get("OAUTH_REDIRECT_ALLOW", "")
    return OAuthSettings(
        callback_url=callback_url,
        callback_port=read_int(env, "OAUTH_CALLBACK_PORT", 9005),
        redirect_allow=tuple(entry.strip() for entry in allowed.split(",") if entry.strip()),
        refresh_margin_seconds=read_int(env, "OAUTH_REFRESH_MARGIN_SECONDS", 900),
        keepalive_interval_seconds=read_int(env, "OAUTH_KEEPALIVE_INTERVAL_SECONDS", 3600),
        shim=callback_shim_settings(env),
        google=oauth_client_settings(env, "GOOGLE_OAUTH"),
        github=oauth_client_settings(env, "GITHUB_OAUTH"),
        google_scopes_allow=_scopes(env, "OAUTH_GOOGLE_SCOPES_ALLOW", DEFAULT_GOOGLE_SCOPES_ALLOW),
        github_scopes_allow=_scopes(env, "OAUTH_GITHUB_SCOPES_ALLOW", DEFAULT_GITHUB_SCOPES_ALLOW),
    )


def _scopes(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma- or space-separated scope list; unset or blank keeps the default."""
    listed = tuple(scope for scope in re.split(r"[\s,]+", env.get(name, "")) if scope)
    return listed or default


def operations_settings(env: Mapping[str, str]) -> OperationsSettings:
    settings = OperationsSettings(
        health_check_interval_seconds=read_float(env, "HEALTH_CHECK_INTERVAL_SECONDS", 300.0),
        health_check_jitter_seconds=read_float(env, "HEALTH_CHECK_JITTER_SECONDS", 30.0),
        health_check_concurrency=read_int(env, "HEALTH_CHECK_CONCURRENCY", 4),
        rotation_lifetime_seconds=read_int(env, "ROTATION_LIFETIME_SECONDS", 900),
        opstage_url=env.get("OPSTAGE_URL", "").strip().rstrip("/"),
        opstage_registration_token=env.get("OPSTAGE_REGISTRATION_TOKEN", "").strip(),
        opstage_agent_code=env.get("OPSTAGE_AGENT_CODE", "").strip() or "integration-api",
        opstage_timeout_seconds=read_float(env, "OPSTAGE_TIMEOUT_SECONDS", 10.0),
        opstage_report_interval_seconds=read_float(env, "OPSTAGE_REPORT_INTERVAL_SECONDS", 60.0),
    )
    if settings.health_check_concurrency < 1:
        raise ConfigError("HEALTH_CHECK_CONCURRENCY must be at least 1")
    if settings.rotation_lifetime_seconds < 1:
        raise ConfigError("ROTATION_LIFETIME_SECONDS must be at least 1")
    if settings.opstage_report_interval_seconds < 5:
        raise ConfigError("OPSTAGE_REPORT_INTERVAL_SECONDS must be at least 5")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,79}", settings.opstage_agent_code):
        raise ConfigError("OPSTAGE_AGENT_CODE must be lower-case kebab-case (a-z, 0-9, -)")
    return settings


def tracing_settings(env: Mapping[str, str]) -> TracingSettings:
    endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if endpoint and not endpoint.startswith(("https://", "http://")):
        raise ConfigError("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL")
    settings = TracingSettings(
        endpoint=endpoint,
        service_name=env.get("OTEL_SERVICE_NAME", "").strip() or TracingSettings.service_name,
        sample_ratio=read_float(env, "OTEL_TRACES_SAMPLER_ARG", 1.0),
    )
    if not 0.0 <= settings.sample_ratio <= 1.0:
        raise ConfigError("OTEL_TRACES_SAMPLER_ARG must be between 0 and 1")
    return settings


def call_gate_settings(env: Mapping[str, str]) -> CallGateSettings:
    """The credentials' breaker and provider pauses; each variable defaults to the dataclass's."""
    defaults = CallGateSettings()
    ratio = read_positive_float(
        env, "CREDENTIAL_BREAKER_FAILURE_RATIO", defaults.breaker_failure_ratio
    )
    if ratio > 1:
        raise ConfigError("CREDENTIAL_BREAKER_FAILURE_RATIO must be at most 1")
    pause = read_float(
        env, "CREDENTIAL_MAX_PROVIDER_PAUSE_SECONDS", defaults.max_provider_pause_seconds
    )
    if pause < 0:
        raise ConfigError("CREDENTIAL_MAX_PROVIDER_PAUSE_SECONDS must be zero or more")
    return CallGateSettings(
        breaker_failures=read_non_negative_int(
            env, "CREDENTIAL_BREAKER_FAILURES", defaults.breaker_failures
        ),
        breaker_failure_ratio=ratio,
        breaker_min_calls=read_positive_int(
            env, "CREDENTIAL_BREAKER_MIN_CALLS", defaults.breaker_min_calls
        ),
        breaker_window_seconds=read_positive_int(
            env, "CREDENTIAL_BREAKER_WINDOW_SECONDS", defaults.breaker_window_seconds
        ),
        breaker_open_seconds=read_positive_float(
            env, "CREDENTIAL_BREAKER_OPEN_SECONDS", defaults.breaker_open_seconds
        ),
        max_provider_pause_seconds=pause,
    )


def usage_settings(env: Mapping[str, str]) -> UsageSettings:
    """The usage ledger's buffer, batches, retention and budget refresh (`UsageSettings()`)."""
    defaults = UsageSettings()
    settings = UsageSettings(
        buffer_records=read_positive_int(env, "USAGE_BUFFER_RECORDS", defaults.buffer_records),
        batch_records=read_positive_int(env, "USAGE_BATCH_RECORDS", defaults.batch_records),
        flush_interval_seconds=read_positive_float(
            env, "USAGE_FLUSH_INTERVAL_SECONDS", defaults.flush_interval_seconds
        ),
        retention_months=read_non_negative_int(
            env, "USAGE_RETENTION_MONTHS", defaults.retention_months
        ),
        budget_refresh_seconds=read_positive_float(
            env, "USAGE_BUDGET_REFRESH_SECONDS", defaults.budget_refresh_seconds
        ),
    )
    if settings.batch_records > settings.buffer_records:
        raise ConfigError("USAGE_BATCH_RECORDS must be at most USAGE_BUFFER_RECORDS")
    return settings
