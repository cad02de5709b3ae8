"""A token bucket per client address, and which address a callback comes from.

A browser finishing consent sends one callback, a retry or two at most; `burst` of them at
once and `rate` a second after that leave every real user alone while one address flooding the
shim is answered 429. The buckets are kept for the `max_addresses` most recently seen; an
address pushed out starts again with a full bucket, which only a flood from that many addresses
at once can cause — and the shim's connection cap still bounds it. IPv6 clients are keyed by
their /64, the smallest block one subscriber is usually given.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable

from integration_api.config.callback_shim import Network

MAX_ADDRESSES = 10_000
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRateLimit:
    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        *,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate_per_second
        self._burst = float(burst)
        self._max_addresses = max_addresses
        self._clock = clock
        # address → (tokens, when they were counted); insertion order is recency.
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, address: str) -> int:
        """0 when `address` may send a request now, else the whole seconds until it may."""
        now = self._clock()
        tokens, counted_at = self._buckets.pop(address, (self._burst, now))
        tokens = min(self._burst, tokens + (now - counted_at) * self._rate)
        wait = 0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = max(1, math.ceil((1 - tokens) / self._rate))
        self._buckets[address] = (tokens, now)
        if len(self._buckets) > self._max_addresses:
            del self._buckets[next(iter(self._buckets))]
        return wait


def client_address(
    peer: str | None, forwarded_for: str, trusted_proxies: tuple[Network, ...]
) -> str:
    """The address a request is limited by: the peer, or — when the peer is a trusted proxy —
    the nearest `X-Forwarded-For` hop that is not one (entries further left are the client's
    own claims and are never believed)."""
    address = _parse(peer or "")
    if address is None:
        return peer or "unknown"
    if _trusted(address, trusted_proxies):
        for entry in reversed(forwarded_for.split(",")):
            hop = _parse(entry.strip())
            if hop is None:
                break
            address = hop
            if not _trusted(hop, trusted_proxies):
                break
    return _key(address)


def _parse(value: str) -> _Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address: _Address, trusted_proxies: tuple[Network, ...]) -> bool:
    return any(address in network for network in trusted_proxies)


def _key(address: _Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
