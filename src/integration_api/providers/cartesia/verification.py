"""Cartesia: authentication, the pinned API version, and the credential check.

See: https://docs.cartesia.ai/api-reference/voices/list.
Every request carries `Authorization: Bearer <key>` and `Cartesia-Version`, which changes the
error shape (structured from `2026-03-01`); each credential pins it in
`config.extra["cartesia_version"]` so an upgrade is a decision, not a surprise.
"""

from __future__ import annotations

import re

from integration_api.credentials.model import CredentialConfig, ProviderCredential
from integration_api.errors import FieldViolation
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.verification import HttpProbe, ProbeRequest

PROVIDER = "cartesia"
DEFAULT_VERSION = "2026-03-01"
VERSION_SETTING = "cartesia_version"
_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")


def cartesia_version(config: CredentialConfig) -> str:
    return config.extra.get(VERSION_SETTING) or DEFAULT_VERSION


def version_violations(config: CredentialConfig) -> list[FieldViolation]:
    """`cartesia_version`, when given, is a dated version (YYYY-MM-DD)."""
    version = config.extra.get(VERSION_SETTING)
    if version is not None and not _VERSION.fullmatch(version):
        field = f"config.extra.{VERSION_SETTING}"
        return [FieldViolation(field, "must be a Cartesia API version such as 2026-03-01")]
    return []


def cartesia_headers(credential: ProviderCredential) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key_of(credential)}",
        "Cartesia-Version": cartesia_version(credential.config),
    }


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    url = join_url(resolve_base_url(PROVIDER, credential.config), "voices")
    return ProbeRequest("GET", url, cartesia_headers(credential), params={"limit": "1"})


VERIFIER = HttpProbe(PROVIDER, verification_request)
