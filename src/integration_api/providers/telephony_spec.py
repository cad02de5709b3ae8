"""The declaration of a telephony provider, one shape for every telephony folder.

A telephony provider is checked by its account call, validates its webhooks' signatures (or
says it has none), controls calls, and lives on a default host, one host per region its
`config.region` may name, or one host for every account. A folder states those parts; this
builds its `ProviderSpec`, so what follows from them (what TelephonyService offers for it, the
region names accepted, the base URL a region selects, the hosts its key may go to) is decided in
one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from integration_api.credentials.verification import CredentialVerifier
from integration_api.providers.declaration import (
    CALL,
    WEBHOOK,
    ConfigCheck,
    ProviderSpec,
    SecretCheck,
)
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.telephony_regions import named_regions, regional_base_urls
from integration_api.telephony.call_ports import CallControl
from integration_api.telephony.webhooks import UnsignedWebhooks, WebhookChecker


@dataclass(frozen=True)
class TelephonyHosts:
    """Where a telephony provider's key goes."""

    # Without `config.base_url` or `config.region`.
    default_base_url: str
    # Every host of the provider (the default one and each region's): its key's egress.
    hosts: tuple[str, ...]
    # The host each region name selects (empty: one host serves every account).
    region_hosts: Mapping[str, str] = field(default_factory=dict)


def telephony_provider(
    provider: str,
    secret_kind: str,
    *,
    verifier: CredentialVerifier[ProviderClient],
    check_secret: SecretCheck,
    webhooks: WebhookChecker | UnsignedWebhooks,
    calls: CallControl[ProviderClient],
    hosts: TelephonyHosts,
    check_config: ConfigCheck | None = None,
) -> ProviderSpec:
    """A telephony provider's spec: call control, and webhook validation where it signs them."""
    signed = not isinstance(webhooks, UnsignedWebhooks)
    return ProviderSpec(
        id=provider,
        verifier=verifier,
        secret_kinds=frozenset({secret_kind}),
        check_secret=check_secret,
        check_config=check_config,
        telephony=(WEBHOOK, CALL) if signed else (CALL,),
        webhooks=webhooks,
        calls=calls,
        default_base_url=hosts.default_base_url,
        regional_base_url=regional_base_urls(hosts.region_hosts) if hosts.region_hosts else None,
        region_shape=named_regions(provider, hosts.region_hosts),
        hosts=hosts.hosts,
    )
