"""Where a provider key may go: the egress policy, in one place.

Two questions, asked by the transport (the only code that opens connections) and by the
credential operations before anything is stored:

- `refusal_for_host` (static, no DNS): a first-party provider's key goes only to that
  provider's own hosts (declared in its folder) or to a host listed in `EGRESS_ALLOW`; a
  provider declared `any_host` (a compatible, self-hosted server) may use any host name. An
  IP-literal host, in any spelling the system resolver accepts (`2852039166`,
  `0251.0376.0251.0376`, `[::ffff:169.254.169.254]`), is judged as an address.
- `address_refusal` (every resolved address, at connect time): loopback, private, link-local,
  unique-local, multicast, reserved, unspecified and shared (CGNAT) addresses are refused,
  IPv4 embedded in IPv6 (mapped, 6to4, NAT64, Teredo) judged as the IPv4 it carries. An
  `EGRESS_ALLOW` address or range admits what it covers; a listed host name admits its
  addresses; development mode admits loopback. Link-local (the metadata service) is admitted
  only by an address or range entry: a name can be re-pointed, a range cannot.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from yarl import URL

from integration_api.providers.egress_hosts import (
    accepts_any_host,
    host_pattern,
    matches_provider_host,
)
from integration_api.upstream.allow_list import (
    AllowList,
    IPAddress,
    address_forms,
    normalize_host,
    parse_allow_list,
)

if TYPE_CHECKING:
    from integration_api.config import Settings

AddressResolver = Callable[[str, int], Awaitable[list[str]]]

NOTHING_LISTED = AllowList()
REFUSED_BY_POLICY = "refused by the egress policy"

# Names that always mean this machine or the cloud's metadata service.
_LOCAL_NAMES = ("localhost", "*.localhost")
_METADATA_NAMES = ("metadata", "metadata.google.internal")
_NUMERIC_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")

_REFUSED_NETWORKS: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "reserved"),
    ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fd00:ec2::254/128", "link-local"),  # the AWS metadata service over IPv6
    ("::/8", "reserved"),
    ("64:ff9b:1::/48", "private"),
    ("100::/64", "reserved"),
    ("2001::/23", "reserved"),
    ("2001:db8::/32", "reserved"),
    ("fc00::/7", "unique-local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "private"),
    ("ff00::/8", "multicast"),
)
_CATEGORIES = tuple((ipaddress.ip_network(net), name) for net, name in _REFUSED_NETWORKS)
_ONLY_BY_ADDRESS_ENTRY = "link-local"


class EgressRefused(OSError):
    """A connection the egress policy does not allow.

    It carries neither host nor address: what a refused place is, or whether anything listens
    there, is not the caller's to learn.
    """

    def __init__(self) -> None:
        super().__init__(REFUSED_BY_POLICY)


_LOCAL_PATTERNS = tuple(host_pattern(glob) for glob in _LOCAL_NAMES)
_METADATA_PATTERNS = tuple(host_pattern(glob) for glob in _METADATA_NAMES)


def is_provider_host(provider: str, host: str) -> bool:
    """Whether `host` is one of the provider's own hosts (not merely allowed by the operator)."""
    return matches_provider_host(provider, normalize_host(host))


# Every request asks about the same few hosts: their parse and range lookups are remembered.
@functools.lru_cache(maxsize=4096)
def ip_literal(host: str) -> IPAddress | None:
    """The address a host spells, in any form the system resolver reads as one, else None."""
    name = normalize_host(host)
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if not _NUMERIC_IPV4.fullmatch(name):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except OSError:
        return None


@functools.lru_cache(maxsize=4096)
def address_category(address: IPAddress) -> str | None:
    """The refused range an address (or the IPv4 it embeds) falls in, or None when public."""
    found = [name for form in address_forms(address) for net, name in _CATEGORIES if form in net]
    if _ONLY_BY_ADDRESS_ENTRY in found:
        return _ONLY_BY_ADDRESS_ENTRY
    return found[0] if found else None


async def resolve_with_system(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host`, in its order, without repeats."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class EgressPolicy:
    """Which hosts and addresses a provider call may reach (see the module docstring).

    `resolve` turns a host name into addresses; everything that resolves for the policy uses
    it, so the checks at connect time and at create time see the same answers.
    """

    allow: AllowList = NOTHING_LISTED
    allow_loopback: bool = False
    resolve: AddressResolver = field(default=resolve_with_system, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        return cls(
            allow=parse_allow_list(settings.egress_allow),
            allow_loopback=settings.environment == "development",
        )

    def address_refusal(self, host: str, address: IPAddress) -> str | None:
        """Why `host` may not be reached at `address` ("loopback address"), or None."""
        category = address_category(address)
        if category is None or self.allow.covers_address(address):
            return None
        if category == _ONLY_BY_ADDRESS_ENTRY:
            return "link-local or metadata address"
        if category == "loopback" and self.allow_loopback:
            return None
        if self.allow.covers_name(host):
            return None
        return f"{category} address"

    def refusal_for_host(self, provider: str, host: str) -> str | None:
        """Why `provider`'s key may not be sent to `host`, or None (no DNS: see the docstring)."""
        name = normalize_host(host)
        address = ip_literal(name)
        if address is not None:
            return self._literal_refusal(provider, address)
        loopback_name = any(pattern.fullmatch(name) for pattern in _LOCAL_PATTERNS)
        listed = self.allow.covers_name(name)
        if loopback_name and not (listed or self.allow_loopback):
            return "local host name"
        if any(pattern.fullmatch(name) for pattern in _METADATA_PATTERNS) and not listed:
            return "metadata host name"
        if accepts_any_host(provider) or listed or is_provider_host(provider, name):
            return None
        if loopback_name:
            return None
        return f"not a host of {provider}"

    def _literal_refusal(self, provider: str, address: IPAddress) -> str | None:
        refusal = self.address_refusal(str(address), address)
        if refusal is not None:
            return refusal
        if accepts_any_host(provider) or self.allow.covers_address(address):
            return None
        if self.allow_loopback and address_category(address) == "loopback":
            return None
        return f"not a host of {provider}"

    def refusal_for_url(self, provider: str, url: str) -> str | None:
        """`refusal_for_host` for the host of `url` (a URL without one is refused)."""
        host = url_host(url)
        if host is None:
            return "names no usable host"
        return self.refusal_for_host(provider, host)

    async def allowed_addresses(self, host: str, port: int) -> list[str]:
        """The addresses of `host` this policy lets a connection use, in resolver order.

        Raises:
            EgressRefused: when every address is refused.
            OSError: when the name does not resolve.
        """
        address = ip_literal(host)
        if address is not None:
            found = [str(address)]
        else:
            found = await self.resolve(host, port)
        allowed = [item for item in found if self._resolved_allowed(host, item)]
        if not allowed:
            raise EgressRefused()
        return allowed

    def _resolved_allowed(self, host: str, resolved: str) -> bool:
        address = ip_literal(resolved.split("%", 1)[0])
        return address is not None and self.address_refusal(host, address) is None


def url_host(url: str) -> str | None:
    """The host of `url` as the transport will connect to it, or None when it has none."""
    address_like = _host_by_split(url)
    if address_like is not None and ip_literal(address_like) is not None:
        # yarl keeps some numeric spellings the system resolver accepts: judge them as addresses.
        return address_like
    try:
        host = URL(url).raw_host or ""
    except (ValueError, TypeError):
        return address_like
    return normalize_host(host) or None


def _host_by_split(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return normalize_host(host) if host else None


async def base_url_refusal(policy: EgressPolicy, provider: str, url: str) -> str | None:
    """Why a configured URL is refused, resolving a host name that is not the provider's own.

    A name that does not resolve now is not refused: the connect-time check still applies.
    """
    host = url_host(url)
    if host is None:
        return "names no usable host"
    refusal = policy.refusal_for_host(provider, host)
    if refusal is not None or ip_literal(host) is not None or is_provider_host(provider, host):
        return refusal
    try:
        found = await policy.resolve(host, 443)
    except OSError:
        return None
    refusals = [policy.address_refusal(host, address) for address in _addresses(found)]
    if refusals and all(refusals):
        return refusals[0]
    return None


def _addresses(found: Iterable[str]) -> list[IPAddress]:
    parsed = (ip_literal(item.split("%", 1)[0]) for item in found)
    return [address for address in parsed if address is not None]
