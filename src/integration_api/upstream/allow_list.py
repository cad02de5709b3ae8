"""The operator's egress allow-list (`EGRESS_ALLOW`): what it may say, and what it covers.

The settings check the variable with it when the process starts; the egress policy
(`providers.egress`) asks it whether a host or an address was listed. It sits below both, so
neither imports the other.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def normalize_host(host: str) -> str:
    """Lower case, without a trailing dot, brackets or a percent-encoded IPv6 zone."""
    return unquote(host).strip("[]").rstrip(".").lower()


def address_forms(address: IPAddress) -> list[IPAddress]:
    """The address and every IPv4 address it embeds."""
    forms: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            forms.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            forms.append(address.sixtofour)
        if address.teredo is not None:
            forms.append(address.teredo[1])
        if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
            forms.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return forms


def _wildcard(entry: str) -> re.Pattern[str]:
    """`*.domain`: one or more labels, then the domain."""
    return re.compile(r"(?:[a-z0-9-]+\.)+" + re.escape(entry.removeprefix("*.")))


@dataclass(frozen=True)
class AllowList:
    """The parsed `EGRESS_ALLOW`: names, `*.domain` wildcards, addresses and ranges."""

    names: frozenset[str] = frozenset()
    wildcards: tuple[re.Pattern[str], ...] = ()
    networks: tuple[IPNetwork, ...] = ()

    def covers_name(self, host: str) -> bool:
        name = normalize_host(host)
        return name in self.names or any(pattern.fullmatch(name) for pattern in self.wildcards)

    def covers_address(self, address: IPAddress) -> bool:
        return any(form in network for form in address_forms(address) for network in self.networks)


def parse_allow_list(entries: Iterable[str]) -> AllowList:
    """Raises ValueError naming the position (from 1) of the first entry that is not one."""
    names: set[str] = set()
    wildcards: list[re.Pattern[str]] = []
    networks: list[IPNetwork] = []
    for position, raw in enumerate(entries, start=1):
        entry = normalize_host(raw.strip())
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        bare = entry.removeprefix("*.")
        labels = bare.split(".")
        if not bare or "*" in bare or not all(_LABEL.fullmatch(label) for label in labels):
            raise ValueError(
                f"entry {position} is not a host name, *.domain wildcard, IP address or range"
            )
        if entry.startswith("*."):
            wildcards.append(_wildcard(entry))
        else:
            names.add(entry)
    return AllowList(frozenset(names), tuple(wildcards), tuple(networks))


def split_allow_setting(value: str) -> tuple[str, ...]:
    """The entries of a comma-separated `EGRESS_ALLOW` value (empty ones dropped)."""
    return tuple(entry.strip() for entry in value.split(",") if entry.strip())
