"""Every environment variable the service reads, its default and its meaning, in one table.

`integration-api serve --help` prints it, and a test holds it equal to what `load_settings`
reads and to the README's configuration table, so none of the three can drift.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("ENV", "development", "development, test or production (secret policy, JSON logs)"),
    Variable("HOST", "0.0.0.0", "gRPC listen address"),  # noqa: S104 - documents the default
    Variable("PORT", "9004", "gRPC port"),
    Variable("METRICS_PORT", "9464", "Prometheus /metrics port; 0 disables"),
    Variable("SECRET", "random in DATA_DIR (development)", "HS256 key of service tokens"),
    Variable("JWT_MAX_TTL_SECONDS", "86400", "longest accepted service-token lifetime"),
    Variable("JWT_AUDIENCE", "", "when set, tokens must carry this aud"),
    Variable("JWT_ISSUER", "", "when set, tokens must carry this iss"),
    Variable("JWT_LEEWAY_SECONDS", "30", "clock skew accepted on a token's exp and nbf (0-300)"),
    Variable(
        "INTEGRATION_CRYPTO_KEY", "random in DATA_DIR (development)", "primary encryption key"
    ),
    Variable("INTEGRATION_CRYPTO_KEYS", "", "decrypt-only keys, comma-separated"),
    Variable("DATA_DIR", "data", "embedded PostgreSQL and development secrets"),
    Variable("POSTGRES__HOST", "embedded PostgreSQL", "external PostgreSQL host"),
    Variable("POSTGRES__PORT", "5432", "PostgreSQL port"),
    Variable("POSTGRES__DB_NAME", "integration_api", "database name"),
    Variable("POSTGRES__AUTH__USER", "postgres", "database user"),
    Variable("POSTGRES__AUTH__PASSWORD", "", "database password"),
    Variable("POSTGRES__SSL_MODE", "disable", "libpq sslmode"),
    Variable("POSTGRES__SSL_ROOT_CERT", "", "CA file the server's certificate must chain to"),
    Variable("POSTGRES__SSL_CERT", "", "client certificate file, for servers that ask for one"),
    Variable("POSTGRES__SSL_KEY", "", "private key file of POSTGRES__SSL_CERT"),
    Variable("POSTGRES__MAX_OPEN_CONNECTION", "10", "largest connection pool"),
    Variable("POSTGRES__MAX_IDEAL_CONNECTION", "1", "smallest connection pool"),
    Variable("REDIS__HOST", "in-process cache", "Redis host for the shared credential cache"),
    Variable("REDIS__PORT", "6379", "Redis port"),
    Variable("REDIS__DB", "0", "Redis database number"),
    Variable("REDIS__AUTH__USER", "", "Redis user"),
    Variable("REDIS__AUTH__PASSWORD", "", "Redis password"),
    Variable("REDIS__KEY_PREFIX", "integration-api:", "prefix of every Redis key"),
    Variable("REDIS__MAX_CONNECTION", "50", "Redis connection pool size"),
    Variable("REDIS__TLS", "false", "connect to Redis over TLS, verifying its host name"),
    Variable("REDIS__TLS_CA_CERT", "the system's CAs", "CA file Redis's certificate must chain to"),
    Variable("REDIS__TLS_CERT", "", "client certificate file, for servers that ask for one"),
    Variable("REDIS__TLS_KEY", "", "private key file of REDIS__TLS_CERT"),
    Variable("CACHE_TTL_SECONDS", "300", "lifetime of a cached credential row"),
    Variable(
        "EGRESS_ALLOW",
        "",
        "hosts, *.domain, addresses and CIDR ranges any provider's key may reach besides its "
        "own hosts (loopback is allowed in development)",
    ),
    Variable("UPSTREAM_MAX_BODY_BYTES", "33554432", "largest non-streamed provider answer"),
    Variable(
        "UPSTREAM_MAX_ERROR_BODY_BYTES", "65536", "a provider's error answer is read this far"
    ),
    Variable("UPSTREAM_MAX_SSE_LINE_BYTES", "1048576", "longest event-stream line"),
    Variable("UPSTREAM_MAX_SSE_EVENT_BYTES", "4194304", "longest event-stream event"),
    Variable("UPSTREAM_MAX_TOOL_CALLS", "128", "tool calls in one answer"),
    Variable("UPSTREAM_MAX_TOOL_ARGUMENTS_BYTES", "4194304", "size of one answer's tool arguments"),
    Variable("UPSTREAM_MAX_ANSWER_SECONDS", "600", "longest provider answer, deadline or not"),
    Variable("UPSTREAM_MAX_EVENT_GAP_SECONDS", "120", "longest wait for the next stream event"),
    Variable("UPSTREAM_MAX_CONNECTIONS", "1024", "provider connections in all"),
    Variable("UPSTREAM_MAX_CONNECTIONS_PER_HOST", "256", "provider connections to one host"),
    Variable("UPSTREAM_MAX_CALLS_PER_TENANT", "256", "Chat and Embed calls in flight per tenant"),
    Variable("EMBED_MAX_INPUTS", "8192", "texts in one Embed request"),
    Variable("EMBED_MAX_CHARACTERS", "1000000", "characters of all texts in one Embed request"),
    Variable("SPEECH_MAX_FRAME_BYTES", "1048576", "largest WebSocket frame from a speech provider"),
    Variable("SPEECH_MAX_AUDIO_BYTES", "268435456", "audio bytes one speech session may move"),
    Variable("SPEECH_MAX_SESSIONS_PER_TENANT", "64", "speech sessions open at once per tenant"),
    Variable("SPEECH_MAX_TEXT_CHARACTERS", "100000", "text characters one synthesis may send"),
    Variable("SPEECH_KEEPALIVE_SECONDS", "4", "caller silence before a provider keep-alive"),
    Variable("SPEECH_MAX_SESSION_SECONDS", "3600", "longest speech session"),
    Variable("SPEECH_MAX_CALLER_IDLE_SECONDS", "60", "caller silence that ends a speech session"),
    Variable(
        "CREDENTIAL_BREAKER_FAILURES",
        "5",
        "failures in a row that open a credential's circuit breaker (0: no breaker)",
    ),
    Variable(
        "CREDENTIAL_BREAKER_FAILURE_RATIO",
        "0.5",
        "share of failed calls in the window that opens the breaker",
    ),
    Variable("CREDENTIAL_BREAKER_MIN_CALLS", "20", "calls in the window before the ratio counts"),
    Variable("CREDENTIAL_BREAKER_WINDOW_SECONDS", "60", "the window of the failure ratio"),
    Variable(
        "CREDENTIAL_BREAKER_OPEN_SECONDS", "30", "how long an open breaker refuses before a trial"
    ),
    Variable(
        "CREDENTIAL_MAX_PROVIDER_PAUSE_SECONDS",
        "600",
        "longest pause a provider's Retry-After or rate-limit reset sets (0: none)",
    ),
    Variable("LOG_LEVEL", "info", "debug, info, warning or error"),
    Variable("LOG_FORMAT", "json in production, else console", "json or console"),
    Variable("GRPC_MAX_MESSAGE_BYTES", "4194304", "largest request or response"),
    Variable(
        "GRPC_MAX_CONCURRENT_RPCS", "1000", "authenticated RPCs at once; more are refused at once"
    ),
    Variable("GRPC_MAX_WATCH_STREAMS", "256", "health Watch streams open at once"),
    Variable("GRPC_MAX_WATCH_STREAMS_PER_PEER", "16", "health Watch streams from one address"),
    Variable("GRPC_MAX_REFLECTION_STREAMS", "32", "reflection streams open at once"),
    Variable("GRPC_MAX_REFLECTION_STREAMS_PER_PEER", "4", "reflection streams from one address"),
    Variable(
        "GRPC_MAX_OPENING_STREAMS_PER_TENANT", "64", "a tenant's streams awaiting a first message"
    ),
    Variable("GRPC_FIRST_MESSAGE_SECONDS", "10", "wait for a streaming call's first message"),
    Variable("GRPC_MAX_STREAMS_PER_CONNECTION", "1000", "calls open at once on one connection"),
    Variable("GRPC_MAX_CONNECTION_AGE_SECONDS", "1800", "connection age that brings GOAWAY"),
    Variable("GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS", "3600", "time an old connection's calls get"),
    Variable("GRPC_MAX_CONNECTION_IDLE_SECONDS", "300", "idle time that brings GOAWAY"),
    Variable("GRPC_KEEPALIVE_TIME_SECONDS", "60", "server keepalive ping interval"),
    Variable("GRPC_KEEPALIVE_MIN_PING_SECONDS", "10", "clients pinging more often are cut off"),
    Variable(
        "GRPC_KEEPALIVE_PERMIT_WITHOUT_CALLS",
        "false",
        "clients may ping a connection without calls",
    ),
    Variable("GRPC_KEEPALIVE_MAX_PING_STRIKES", "2", "bad pings tolerated before GOAWAY"),
    Variable("SHUTDOWN_GRACE_SECONDS", "20", "on SIGTERM, how long in-flight RPCs may finish"),
    Variable("READINESS_INTERVAL_SECONDS", "2", "how often dependencies are probed"),
    Variable(
        "WORKERS",
        "CPUs available in production, else 1",
        "worker processes of serve sharing the port (--workers overrides)",
    ),
    Variable(
        "OAUTH_CALLBACK_URL", "", "public base URL of the OAuth callback; empty disables OAuth"
    ),
    Variable("OAUTH_CALLBACK_PORT", "9005", "port of the OAuth browser callback"),
    Variable(
        "OAUTH_CALLBACK_HEADER_TIMEOUT_SECONDS",
        "10",
        "callback connections must send complete request headers within this",
    ),
    Variable(
        "OAUTH_CALLBACK_MAX_CONNECTIONS", "256", "open callback connections per worker process"
    ),
    Variable(
        "OAUTH_CALLBACK_RATE_PER_SECOND", "1", "callback requests per second per client address"
    ),
    Variable("OAUTH_CALLBACK_RATE_BURST", "20", "callback requests one address may send at once"),
    Variable(
        "OAUTH_CALLBACK_TRUSTED_PROXIES",
        "",
        "proxies (CIDR, comma-separated) whose X-Forwarded-For names the callback's client",
    ),
    Variable("OAUTH_REDIRECT_ALLOW", "", "where users may be sent after OAuth, comma-separated"),
    Variable(
        "OAUTH_GOOGLE_SCOPES_ALLOW",
        "openid email profile userinfo.email userinfo.profile calendar.readonly drive.readonly",
        "scopes a tenant may request from Google, comma- or space-separated",
    ),
    Variable(
        "OAUTH_GITHUB_SCOPES_ALLOW",
        "read:user user:email",
        "scopes a tenant may request from GitHub, comma- or space-separated",
    ),
    Variable("OAUTH_REFRESH_MARGIN_SECONDS", "900", "refresh access tokens this close to expiry"),
    Variable("OAUTH_KEEPALIVE_INTERVAL_SECONDS", "3600", "how often idle connections are checked"),
    Variable("GOOGLE_OAUTH_CLIENT_ID", "", "Google OAuth client id"),
    Variable("GOOGLE_OAUTH_CLIENT_SECRET", "", "Google OAuth client secret"),
    Variable("GOOGLE_OAUTH_AUTHORIZATION_URL", "Google's", "Google authorization endpoint"),
    Variable("GOOGLE_OAUTH_TOKEN_URL", "Google's", "Google token endpoint"),
    Variable("GOOGLE_OAUTH_USERINFO_URL", "Google's", "Google userinfo endpoint"),
    Variable("GOOGLE_OAUTH_REVOKE_URL", "Google's", "Google revoke endpoint"),
    Variable("GITHUB_OAUTH_CLIENT_ID", "", "GitHub OAuth client id"),
    Variable("GITHUB_OAUTH_CLIENT_SECRET", "", "GitHub OAuth client secret"),
    Variable("GITHUB_OAUTH_AUTHORIZATION_URL", "GitHub's", "GitHub authorization endpoint"),
    Variable("GITHUB_OAUTH_TOKEN_URL", "GitHub's", "GitHub token endpoint"),
    Variable("GITHUB_OAUTH_USERINFO_URL", "GitHub's", "GitHub /user endpoint"),
    Variable("GITHUB_OAUTH_REVOKE_URL", "GitHub's", "GitHub grant deletion endpoint"),
    Variable("HEALTH_CHECK_INTERVAL_SECONDS", "300", "background credential checks; 0 disables"),
    Variable("HEALTH_CHECK_JITTER_SECONDS", "30", "random delay added to each check round"),
    Variable("HEALTH_CHECK_CONCURRENCY", "4", "provider checks run at once"),
    Variable("ROTATION_LIFETIME_SECONDS", "900", "how long a requested rotation may be confirmed"),
    Variable("OPSTAGE_URL", "", "Opstage backend; with the token below, runs the agent"),
    Variable("OPSTAGE_REGISTRATION_TOKEN", "", "single-use opstage_reg_… token"),
    Variable("OPSTAGE_AGENT_CODE", "integration-api", "stable agent code of this deployment"),
    Variable("OPSTAGE_TIMEOUT_SECONDS", "10", "timeout of each call to the Opstage backend"),
    Variable("OPSTAGE_REPORT_INTERVAL_SECONDS", "60", "every Opstage service reported this often"),
    Variable(
        "USAGE_BUFFER_RECORDS",
        "100000",
        "usage records a process holds while the database is slow or down (then dropped)",
    ),
    Variable("USAGE_BATCH_RECORDS", "200", "usage records written in one statement"),
    Variable("USAGE_FLUSH_INTERVAL_SECONDS", "0.2", "longest a usage record waits to be written"),
    Variable("USAGE_RETENTION_MONTHS", "13", "months of raw usage records kept; 0: all"),
    Variable("OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/gRPC collector URL; set, traces are sent"),
    Variable("OTEL_SERVICE_NAME", "integration-api", "service.name of the traces"),
    Variable("OTEL_TRACES_SAMPLER_ARG", "1.0", "share of new traces sampled (callers' kept)"),
    Variable("USAGE_BUDGET_REFRESH_SECONDS", "1", "how often budgets and their spend are reloaded"),
)


def environment_help() -> str:
    """The table as plain text, for `--help`."""
    width = max(len(variable.name) for variable in VARIABLES)
    lines = ["environment variables (default in brackets):"]
    for variable in VARIABLES:
        default = f" [{variable.default}]" if variable.default else ""
        lines.append(f"  {variable.name.ljust(width)}  {variable.meaning}{default}")
    lines.append("See README.md, section Configuration, for details.")
    return "\n".join(lines)
