"""Exotel's clusters, by the name `config.region` gives them.

See: developer.exotel.com/docs/voice-v1/quickstart. `sg` is api.exotel.com (Singapore, the
default), `in` is api.in.exotel.com (Mumbai); an account's key works in its own cluster only.
"""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.exotel.com"

REGION_HOSTS: dict[str, str] = {"sg": "api.exotel.com", "in": "api.in.exotel.com"}

HOSTS: tuple[str, ...] = tuple(REGION_HOSTS.values())
