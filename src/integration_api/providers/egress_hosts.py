"""Each first-party provider's own hosts: where its key may go without an `EGRESS_ALLOW` entry.

Every provider folder declares its hosts (`ProviderSpec.hosts`; the rule for what a pattern
may name is in `declaration`); this module matches a host name against them.

Host pattern syntax: a leading `*.` stands for one or more labels; `{aws-region}` and
`{gcp-region}` for one region name in that cloud's own shape (no dot, so never another label).
"""

from __future__ import annotations

import functools
import re

from integration_api.providers.declared import declaration, provider_hosts
from integration_api.providers.endpoints import AWS_REGION_PATTERN

# Google Cloud's region shape: `us-central1`, `europe-west4`, `northamerica-northeast1`.
GCP_REGION_PATTERN = r"[a-z]+-[a-z]+[0-9]{1,2}"
_PLACEHOLDERS = {"{aws-region}": AWS_REGION_PATTERN, "{gcp-region}": GCP_REGION_PATTERN}
_PLACEHOLDER = re.compile("|".join(re.escape(name) for name in _PLACEHOLDERS))


def host_pattern(glob: str) -> re.Pattern[str]:
    """The regular expression for one host pattern (lower-case names, no trailing dot)."""
    prefix = ""
    if glob.startswith("*."):
        prefix, glob = r"(?:[a-z0-9-]+\.)+", glob[2:]
    pieces: list[str] = []
    position = 0
    for found in _PLACEHOLDER.finditer(glob):
        pieces.append(re.escape(glob[position : found.start()]))
        pieces.append(_PLACEHOLDERS[found.group()])
        position = found.end()
    pieces.append(re.escape(glob[position:]))
    return re.compile(prefix + "".join(pieces))


def accepts_any_host(provider: str) -> bool:
    """Whether `provider`'s key may go to any host name (a self-hosted, compatible server)."""
    spec = declaration(provider)
    return spec is not None and spec.any_host


def matches_provider_host(provider: str, name: str) -> bool:
    """Whether the normalized host `name` is one of `provider`'s own hosts."""
    return any(pattern.fullmatch(name) for pattern in _provider_patterns().get(provider, ()))


@functools.cache
def _provider_patterns() -> dict[str, tuple[re.Pattern[str], ...]]:
    return {
        provider: tuple(host_pattern(glob) for glob in globs)
        for provider, globs in provider_hosts().items()
    }
