"""The settings of each part of the service, one frozen dataclass each (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from integration_api.config.callback_shim import CallbackShimSettings


@dataclass(frozen=True)
class PostgresSettings:
    host: str = ""
    port: int = 5432
    database: str = "integration_api"
    user: str = "postgres"
    password: str = field(default="", repr=False)
    ssl_mode: str = "disable"
    # PEM files: the CA that signed the server's certificate, and an optional client certificate
    # with its key for servers that ask for one (libpq's sslrootcert, sslcert and sslkey).
    ssl_root_cert: str = ""
    ssl_cert: str = ""
    ssl_key: str = ""
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
    tls: bool = False
    # PEM files: the CA that signed the server's certificate (empty: the system's CAs), and an
    # optional client certificate with its key for servers that ask for one.
    tls_ca_cert: str = ""
    tls_cert: str = ""
    tls_key: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class CallGateSettings:
    """The credentials' circuit breaker and what the service learns from providers' headers.

    `breaker_failures` 0 turns the breaker off; `max_provider_pause_seconds` 0 stops pausing a
    credential on a provider's Retry-After or spent rate-limit window.
    """

    breaker_failures: int = 5
    breaker_failure_ratio: float = 0.5
    breaker_min_calls: int = 20
    breaker_window_seconds: int = 60
    breaker_open_seconds: float = 30.0
    max_provider_pause_seconds: float = 600.0


@dataclass(frozen=True)
class JwtSettings:
    """Optional claims a service token must carry, and the longest lifetime it may have."""

    audience: str = ""
    issuer: str = ""
    # The platform mints tokens for 24 hours; anything longer-lived is refused.
    max_ttl_seconds: int = 86_400
    # Clock skew allowed between the minting service and this one, on `exp` and `nbf`.
    leeway_seconds: int = 30


@dataclass(frozen=True)
class GrpcLimits:
    """The gRPC port's bounds: admission budgets, per-connection limits, ping policy.

    Health `Check` is never counted. `Watch` and reflection streams, which need no token, have
    budgets of their own (in all and per peer address); authenticated RPCs share
    `max_concurrent_rpcs`, so anonymous streams can never take a slot a token holder needs.
    """

    max_message_bytes: int = 4 * 1024 * 1024
    max_concurrent_rpcs: int = 1000
    # A Watch stream costs little while open; the bound is on how many anyone can pile up.
    # Clients with gRPC client-side health checking hold one per channel and server.
    max_watch_streams: int = 256
    max_watch_streams_per_peer: int = 16
    max_reflection_streams: int = 32
    max_reflection_streams_per_peer: int = 4
    # Streaming RPCs of one tenant that have not sent their first message yet.
    max_opening_streams_per_tenant: int = 64
    # HTTP/2 streams one connection may have open at once (its SETTINGS_MAX_CONCURRENT_STREAMS).
    # gRPC clients queue calls past it rather than open another connection, so it is as large
    # as the RPC budget: one busy platform channel carries every voice call's three streams.
    max_streams_per_connection: int = 1000
    # A connection older than this gets GOAWAY; its open streams then have the grace to finish,
    # which is at least the longest speech session so that a live call is never cut.
    max_connection_age_seconds: float = 1800.0
    max_connection_age_grace_seconds: float = 3600.0
    # A connection without any RPC for this long gets GOAWAY.
    max_connection_idle_seconds: float = 300.0
    keepalive_time_seconds: int = 60
    keepalive_min_ping_interval_seconds: int = 10
    # Pings on a connection without RPCs count as misbehaviour unless permitted.
    keepalive_permit_without_calls: bool = False
    # Pings too early (or without calls) tolerated before GOAWAY ENHANCE_YOUR_CALM.
    keepalive_max_ping_strikes: int = 2
    # A client- or bidirectional-streaming RPC must send its first message within this.
    first_message_seconds: float = 10.0


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


# The scopes a tenant may request when the operator lists none: sign-in identity, and read-only
# calendar and files for Google; the public profile and email addresses for GitHub. Anything
# broader (Gmail, calendar writes, private repositories) must be listed by the operator.
DEFAULT_GOOGLE_SCOPES_ALLOW = (
    "openid",
    "email",
    "profile",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/drive.readonly",
)
DEFAULT_GITHUB_SCOPES_ALLOW = ("read:user", "user:email")


@dataclass(frozen=True)
class OAuthSettings:
    callback_url: str = ""
    callback_port: int = 9005
    redirect_allow: tuple[str, ...] = ()
    refresh_margin_seconds: int = 900
    keepalive_interval_seconds: int = 3600
    shim: CallbackShimSettings = field(default_factory=CallbackShimSettings)
    google: OAuthClientSettings = OAuthClientSettings()
    github: OAuthClientSettings = OAuthClientSettings()
    google_scopes_allow: tuple[str, ...] = DEFAULT_GOOGLE_SCOPES_ALLOW
    github_scopes_allow: tuple[str, ...] = DEFAULT_GITHUB_SCOPES_ALLOW

    def scopes_allow(self, provider: str) -> tuple[str, ...]:
        """The scopes a tenant may ask `provider` for (`OAUTH_<PROVIDER>_SCOPES_ALLOW`)."""
        return {"google": self.google_scopes_allow, "github": self.github_scopes_allow}.get(
            provider, ()
        )

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
    # Every Opstage service is reported in full at least this often.
    opstage_report_interval_seconds: float = 60.0
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
class UsageSettings:
    """The usage ledger: its buffer, batches, the raw records' retention, budgets."""

    # Records a process holds while the database is slow or down; past it they are dropped
    # (counted and logged).
    buffer_records: int = 100_000
    # A batch is written when it holds this many records, or every flush interval.
    # Encoding a batch holds the event loop about 9 µs a row: 200 rows stay under 2 ms.
    batch_records: int = 200
    flush_interval_seconds: float = 0.2
    # Months of raw records kept (this one included); older monthly partitions are dropped.
    # 0 keeps everything. The hourly sums are kept regardless.
    retention_months: int = 13
    # How often each process reloads every budget and its month's spend from the database (what
    # other replicas spent reaches this one's guard within this long).
    budget_refresh_seconds: float = 1.0
