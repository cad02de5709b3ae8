"""Twilio's regional REST hosts, by the processing region `config.region` names.

See: twilio.com/docs/global-infrastructure/using-the-twilio-rest-api-in-a-non-us-region. A
region is reached through its own edge, `api.{edge}.{region}.twilio.com` (the edge-less
`api.{region}.twilio.com` names were retired on 2026-04-28); the region-to-edge pairs are the
ones Twilio's own SDKs map. No region: api.twilio.com (US1).
"""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.twilio.com"

EDGES: dict[str, str] = {
    "au1": "sydney",
    "br1": "sao-paulo",
    "de1": "frankfurt",
    "ie1": "dublin",
    "jp1": "tokyo",
    "jp2": "osaka",
    "sg1": "singapore",
    "us1": "ashburn",
    "us2": "umatilla",
}

REGION_HOSTS: dict[str, str] = {
    region: f"api.{edge}.{region}.twilio.com" for region, edge in EDGES.items()
}

HOSTS: tuple[str, ...] = ("api.twilio.com", *REGION_HOSTS.values())
