"""The regional API hosts of the telephony providers, named by what `config.region` holds.

One table feeds both the default base URL of a credential and the egress host list, so a
region accepted here is always a host the key may go to.

- Twilio: the processing region with its edge, `api.{edge}.{region}.twilio.com`; the
  edge-less `api.{region}.twilio.com` names were retired on 2026-04-28
  (twilio.com/docs/global-infrastructure/using-the-twilio-rest-api-in-a-non-us-region; the
  region-to-edge pairs as Twilio's own SDKs map them). No region: api.twilio.com (US1).
- Vonage: the Voice API's regional hosts under the application's region names
  (developer.vonage.com Application API v2, `VoiceRegion`). No region: api.nexmo.com.
- Exotel: the account's cluster, `sg` (api.exotel.com, Singapore, the default) or `in`
  (api.in.exotel.com, Mumbai) (developer.exotel.com/docs/voice-v1/quickstart); an account's
  key works in its own cluster only.
"""

from __future__ import annotations

TWILIO_EDGES: dict[str, str] = {
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

TWILIO_REGION_HOSTS: dict[str, str] = {
    region: f"api.{edge}.{region}.twilio.com" for region, edge in TWILIO_EDGES.items()
}

VONAGE_REGION_HOSTS: dict[str, str] = {
    "na-east": "api-us-3.vonage.com",
    "na-west": "api-us-4.vonage.com",
    "eu-east": "api-eu-4.vonage.com",
    "eu-west": "api-eu-3.vonage.com",
    "apac-sng": "api-ap-3.vonage.com",
    "apac-australia": "api-ap-4.vonage.com",
}

EXOTEL_REGION_HOSTS: dict[str, str] = {"sg": "api.exotel.com", "in": "api.in.exotel.com"}

# Provider id -> {region name: host}; a provider listed here takes only these region names
# (Plivo and Telnyx serve every account from one host: they take none).
TELEPHONY_REGION_HOSTS: dict[str, dict[str, str]] = {
    "twilio": TWILIO_REGION_HOSTS,
    "vonage": VONAGE_REGION_HOSTS,
    "exotel": EXOTEL_REGION_HOSTS,
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
