"""Vonage's hosts: the account API's, and the Voice API's by region.

See: developer.vonage.com Application API v2, `VoiceRegion` (the region names and their
hosts). Account reads (balance) are served by rest.nexmo.com alone; the Voice API by
api.nexmo.com, or the regional host of `config.region`.
"""

from __future__ import annotations

REST_BASE_URL = "https://rest.nexmo.com"
DEFAULT_BASE_URL = "https://api.nexmo.com"

REGION_HOSTS: dict[str, str] = {
    "na-east": "api-us-3.vonage.com",
    "na-west": "api-us-4.vonage.com",
    "eu-east": "api-eu-4.vonage.com",
    "eu-west": "api-eu-3.vonage.com",
    "apac-sng": "api-ap-3.vonage.com",
    "apac-australia": "api-ap-4.vonage.com",
}

HOSTS: tuple[str, ...] = ("rest.nexmo.com", "api.nexmo.com", *REGION_HOSTS.values())
