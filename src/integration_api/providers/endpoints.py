"""Where a provider's key may be sent, and the check every configured `base_url` must pass.

A key is only ever sent to its own credential's `config.base_url`, or to the provider's default
when none is configured: URLs never come from a request. `base_url` replaces the default,
including any version path it carries (`https://api.openai.com/v1`); for the providers whose
API lives under a version path (`ProviderSpec.version_path`) a `base_url` without any path gets
it added, so `http://host:port` and `http://host:port/v1` reach the same `/v1/...` endpoints.

Each provider's default base URL, version path and region shape are its folder's declaration
(`declaration.ProviderSpec`); the functions here answer by provider id from those.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from integration_api.credentials.model import (
    BASE_URL_FIELD as BASE_URL_FIELD,
)
from integration_api.credentials.model import (
    REGION_FIELD as REGION_FIELD,
)
from integration_api.credentials.model import CredentialConfig
from integration_api.errors import InvalidArgument
from integration_api.providers.declared import declaration

_MAX_URL_LENGTH = 2048
# Regions become part of a host name, so only the cloud's own shape is accepted
# (`us-east-1`, `europe-west4`, `global`): anything else could point the key at another host.
_REGION = re.compile(r"(?:global|[a-z]{2,12}(?:-[a-z0-9]{1,16}){1,3})")
# AWS's own region shape (`us-east-1`, `us-gov-west-1`, `ap-southeast-3`). The general shape
# above also admits `s3-external-1` or `s3-us-west-2`, and `bedrock.s3-us-west-2.amazonaws.com`
# is an S3 bucket's host that anyone can create.
AWS_REGION_PATTERN = r"[a-z]{2}(?:-gov)?-[a-z]+-[0-9]"


@dataclass(frozen=True)
class RegionShape:
    """The region names a provider accepts, and the words that refuse any other."""

    pattern: re.Pattern[str]
    refusal: str


ANY_CLOUD_REGION = RegionShape(_REGION, "must be a region name such as us-east-1 or europe-west4")
AWS_REGION = RegionShape(
    re.compile(AWS_REGION_PATTERN), "must be an AWS region name such as us-east-1"
)


# Every call checks its credential's base URL again: each URL is judged once (bounded: a URL
# comes from a stored credential, of which a replica sees a limited number).
@functools.lru_cache(maxsize=1024)
def validate_base_url(url: str) -> str | None:
    """Why `url` cannot be a credential's base URL, or None when it can.

    Accepted: an absolute http(s) URL with a host, no user info, no query and no fragment
    (a key must never ride in the URL, and user info would be sent as credentials).
    """
    if len(url) > _MAX_URL_LENGTH:
        return "must be at most 2048 characters"
    if any(character.isspace() or not character.isprintable() for character in url):
        return "must not contain whitespace or control characters"
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "must name a host"
    if parts.username is not None or parts.password is not None:
        return "must not contain user info"
    if parts.query or url.endswith("?"):
        return "must not contain a query string"
    if "#" in url:
        return "must not contain a fragment"
    if not port_ok:
        return "has an invalid port"
    return None


def region_problem(region: str, shape: RegionShape = ANY_CLOUD_REGION) -> str | None:
    """Why `region` does not have `shape`, or None when it does."""
    if not shape.pattern.fullmatch(region):
        return shape.refusal
    return None


def validate_region(region: str, provider: str = "") -> str | None:
    """Why `region` is not a region name `provider` accepts (`us-east-1`), or None.

    Any cloud's region shape, unless the provider declares its own (Bedrock: AWS's).
    """
    spec = declaration(provider)
    return region_problem(region, spec.region_shape if spec is not None else ANY_CLOUD_REGION)


def default_base_url(provider: str, config: CredentialConfig) -> str | None:
    """The provider's own endpoint for this config, or None when the config must name one.

    Raises:
        InvalidArgument: for `config.region` when the host depends on it and it is malformed.
    """
    spec = declaration(provider)
    if spec is None:
        return None
    if spec.regional_base_url is None or not config.region:
        return spec.default_base_url
    problem = region_problem(config.region, spec.region_shape)
    if problem is not None:
        raise InvalidArgument.for_field(REGION_FIELD, problem)
    return spec.regional_base_url(config.region)


def resolve_base_url(provider: str, config: CredentialConfig, default: str | None = None) -> str:
    """The base URL to call, without a trailing slash: configured, else `default`, else the
    provider's.

    Raises:
        InvalidArgument: for `config.base_url` when it is invalid or required and missing.
    """
    configured = config.base_url.strip()
    if configured:
        problem = validate_base_url(configured)
        if problem is not None:
            raise InvalidArgument.for_field(BASE_URL_FIELD, problem)
        return with_version_path(provider, configured.rstrip("/"))
    fallback = default or default_base_url(provider, config)
    if fallback is None:
        raise InvalidArgument.for_field(BASE_URL_FIELD, f"is required for {provider}")
    return fallback.rstrip("/")


def with_version_path(provider: str, base_url: str) -> str:
    """`base_url` with the provider's version path added when it names no path at all."""
    spec = declaration(provider)
    version = spec.version_path if spec is not None else None
    if version is None or urlsplit(base_url).path.strip("/"):
        return base_url
    return base_url.rstrip("/") + version


def join_url(base_url: str, path: str) -> str:
    """`base_url` followed by `path`, with exactly one slash between them."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")
