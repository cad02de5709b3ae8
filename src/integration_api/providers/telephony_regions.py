"""Region names that pick a telephony provider's host, as declarations use them.

A telephony provider's `config.region` is not a cloud region but one of the names the provider
gives its own regions or clusters (Twilio's `ie1`, Exotel's `in`): each folder lists them with
their hosts, and these helpers turn such a list into the region shape a credential is checked
against and the base URL a region selects. The same list feeds the folder's egress hosts, so a
region accepted here is always a host the key may go to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from integration_api.providers.declaration import RegionalBaseUrl
from integration_api.providers.endpoints import RegionShape

# Matches nothing: for a provider that serves every account from one host.
_NOTHING = re.compile(r"(?!)")


def named_regions(provider: str, hosts: Mapping[str, str]) -> RegionShape:
    """The shape accepting exactly the region names of `hosts` (none when it is empty)."""
    if not hosts:
        return RegionShape(_NOTHING, f"must be empty: {provider} has no regional hosts")
    names = sorted(hosts)
    pattern = re.compile("|".join(re.escape(name) for name in names))
    return RegionShape(pattern, f"must be one of the {provider} regions: {', '.join(names)}")


def regional_base_urls(hosts: Mapping[str, str]) -> RegionalBaseUrl:
    """The base URL of a region named in `hosts` (the region is checked before this is asked)."""

    def base_url(region: str) -> str:
        return f"https://{hosts[region]}"

    return base_url
