"""The telephony providers' regional API hosts, by provider id and `config.region`.

One table feeds both the default base URL of a credential and the egress host list, so a
region accepted here is always a host the key may go to. Each provider's own hosts are in its
folder (`twilio/regions.py`, `vonage/regions.py`, `exotel/regions.py`); Plivo and Telnyx serve
every account from one host and take no region.
"""

from __future__ import annotations

from integration_api.providers.exotel import regions as exotel
from integration_api.providers.twilio import regions as twilio
from integration_api.providers.vonage import regions as vonage

# Provider id -> {region name: host}; a provider listed here takes only these region names.
TELEPHONY_REGION_HOSTS: dict[str, dict[str, str]] = {
    "twilio": twilio.REGION_HOSTS,
    "vonage": vonage.REGION_HOSTS,
    "exotel": exotel.REGION_HOSTS,
    "plivo": {},
    "telnyx": {},
}


def region_host(provider: str, region: str) -> str | None:
    """The API host of `provider` for `region`, or None when it names no such region."""
    return TELEPHONY_REGION_HOSTS.get(provider, {}).get(region)


def region_problem(provider: str, region: str) -> str | None:
    """Why `region` is not one of `provider`'s regions (None when it is)."""
    if region_host(provider, region) is not None:
        return None
    names = ", ".join(sorted(TELEPHONY_REGION_HOSTS[provider]))
    if not names:
        return f"must be empty: {provider} has no regional hosts"
    return f"must be one of the {provider} regions: {names}"
