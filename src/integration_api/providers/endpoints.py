"""Where a provider's key may be sent, and the check every configured `base_url` must pass.

A key is only ever sent to its own credential's `config.base_url`, or to the provider's default
when none is configured: URLs never come from a request. `base_url` replaces the default,
including any version path it carries (`https://api.openai.com/v1`); for the providers whose
API lives under a version path (`VERSION_PATHS`) a `base_url` without any path gets it added,
so `http://host:port` and `http://host:port/v1` reach the same `/v1/...` endpoints.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from integration_api.credentials.model import CredentialConfig
from integration_api.errors import InvalidArgument
from integration_api.providers.telephony_hosts import (
    TELEPHONY_REGION_HOSTS,
    region_host,
    region_problem,
)

DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
    "cohere": "https://api.cohere.com",
    "mistral": "https://api.mistral.ai/v1",
    "huggingface": "https://router.huggingface.co",
    "replicate": "https://api.replicate.com",
    "voyageai": "https://api.voyageai.com/v1",
    "deepgram": "https://api.deepgram.com",
    "elevenlabs": "https://api.elevenlabs.io",
    "cartesia": "https://api.cartesia.ai",
    "assemblyai": "https://api.assemblyai.com",
    "twilio": "https://api.twilio.com",
    # The Voice API; account reads (balance) go to rest.nexmo.com (see vonage/account.py).
    "vonage": "https://api.nexmo.com",
    "plivo": "https://api.plivo.com",
    "telnyx": "https://api.telnyx.com",
    # Singapore, the cluster an Exotel account is in unless `config.region` says `in`.
    "exotel": "https://api.exotel.com",
}

# The providers whose whole API lives under one version path that `base_url` may leave out.
VERSION_PATHS: dict[str, str] = {"openai": "/v1", "mistral": "/v1", "voyageai": "/v1"}

# Hugging Face serves inference from the router but answers "who am I" from the Hub.
HUGGINGFACE_HUB_URL = "https://huggingface.co"

BASE_URL_FIELD = "config.base_url"
REGION_FIELD = "config.region"
_MAX_URL_LENGTH = 2048
# Regions become part of a host name, so only the cloud's own shape is accepted
# (`us-east-1`, `europe-west4`, `global`): anything else could point the key at another host.
_REGION = re.compile(r"(?:global|[a-z]{2,12}(?:-[a-z0-9]{1,16}){1,3})")
# AWS's own region shape (`us-east-1`, `us-gov-west-1`, `ap-southeast-3`). The general shape
# above also admits `s3-external-1` or `s3-us-west-2`, and `bedrock.s3-us-west-2.amazonaws.com`
# is an S3 bucket's host that anyone can create.
AWS_REGION_PATTERN = r"[a-z]{2}(?:-gov)?-[a-z]+-[0-9]"
_AWS_REGION = re.compile(AWS_REGION_PATTERN)


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


def validate_region(region: str, provider: str = "") -> str | None:
    """Why `region` is not a cloud region name (`us-east-1`, `europe-west4`), or None.

    For `bedrock` only an AWS region name is accepted; a telephony provider with regional
    hosts (Twilio, Vonage, Exotel) accepts only its own region names.
    """
    if provider in TELEPHONY_REGION_HOSTS:
        return region_problem(provider, region)
    if provider == "bedrock":
        if not _AWS_REGION.fullmatch(region):
            return "must be an AWS region name such as us-east-1"
        return None
    if not _REGION.fullmatch(region):
        return "must be a region name such as us-east-1 or europe-west4"
    return None


def vertex_default_base_url(location: str) -> str:
    """Vertex AI's host for a location (`global` has no regional prefix)."""
    if location == "global":
        return "https://aiplatform.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def bedrock_default_base_url(region: str) -> str:
    """Bedrock's control-plane host for a region (model listing)."""
    return f"https://bedrock.{region}.amazonaws.com"


def default_base_url(provider: str, config: CredentialConfig) -> str | None:
    """The provider's own endpoint for this config, or None when the config must name one.

    Raises:
        InvalidArgument: for `config.region` when the host depends on it and it is malformed.
    """
    if provider not in ("vertex-ai", "bedrock", *TELEPHONY_REGION_HOSTS):
        return DEFAULT_BASE_URLS.get(provider)
    if not config.region:
        return DEFAULT_BASE_URLS.get(provider)
    problem = validate_region(config.region, provider)
    if problem is not None:
        raise InvalidArgument.for_field(REGION_FIELD, problem)
    host = region_host(provider, config.region)
    if host is not None:
        return f"https://{host}"
    if provider == "vertex-ai":
        return vertex_default_base_url(config.region)
    return bedrock_default_base_url(config.region)


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
    version = VERSION_PATHS.get(provider)
    if version is None or urlsplit(base_url).path.strip("/"):
        return base_url
    return base_url.rstrip("/") + version


def join_url(base_url: str, path: str) -> str:
    """`base_url` followed by `path`, with exactly one slash between them."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")
