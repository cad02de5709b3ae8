"""How much the OAuth callback shim lets one browser, and everyone together, hold.

The shim listens on its own public port inside the gRPC worker, so everything here is per
worker process: `OAUTH_CALLBACK_MAX_CONNECTIONS` connections open at once, request headers
complete within `OAUTH_CALLBACK_HEADER_TIMEOUT_SECONDS`, and a token bucket per client address
(`OAUTH_CALLBACK_RATE_PER_SECOND`, `OAUTH_CALLBACK_RATE_BURST`). Behind an ingress the peer is
the ingress itself: `OAUTH_CALLBACK_TRUSTED_PROXIES` names the proxies whose
`X-Forwarded-For` is believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from integration_api.config.values import (
    ConfigError,
    read_positive_float,
    read_positive_int,
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class CallbackShimSettings:
    header_timeout_seconds: float = 10.0
    max_connections: int = 256
    rate_per_second: float = 1.0
    rate_burst: int = 20
    trusted_proxies: tuple[Network, ...] = ()


def callback_shim_settings(env: Mapping[str, str]) -> CallbackShimSettings:
    defaults = CallbackShimSettings()
    return CallbackShimSettings(
        header_timeout_seconds=read_positive_float(
            env, "OAUTH_CALLBACK_HEADER_TIMEOUT_SECONDS", defaults.header_timeout_seconds
        ),
        max_connections=read_positive_int(
            env, "OAUTH_CALLBACK_MAX_CONNECTIONS", defaults.max_connections
        ),
        rate_per_second=read_positive_float(
            env, "OAUTH_CALLBACK_RATE_PER_SECOND", defaults.rate_per_second
        ),
        rate_burst=read_positive_int(env, "OAUTH_CALLBACK_RATE_BURST", defaults.rate_burst),
        trusted_proxies=_networks(env.get("OAUTH_CALLBACK_TRUSTED_PROXIES", "")),
    )


def _networks(raw: str) -> tuple[Network, ...]:
    try:
        return tuple(
            ipaddress.ip_network(entry.strip(), strict=False)
            for entry in raw.split(",")
            if entry.strip()
        )
    except ValueError:
        raise ConfigError(
            "OAUTH_CALLBACK_TRUSTED_PROXIES must be IP addresses or CIDR ranges, comma-separated"
        ) from None
