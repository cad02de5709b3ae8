"""Each first-party provider's own hosts: where its key may go without an `EGRESS_ALLOW` entry.

A pattern here must name only hosts the provider itself runs. A wildcard is allowed only under
a name no one else can register (`*.api.openai.com`); where customers or strangers can create
names of their own (S3 buckets under `amazonaws.com`, Hugging Face dedicated endpoints under
`endpoints.huggingface.cloud`), the pattern names the exact service host, or the operator lists
the host in `EGRESS_ALLOW`.

Syntax: a leading `*.` stands for one or more labels; `{aws-region}` and `{gcp-region}` for
one region name in that cloud's own shape (no dot, so never another label).
"""

from __future__ import annotations

import re

from integration_api.providers.endpoints import AWS_REGION_PATTERN
from integration_api.providers.exotel import regions as exotel_regions
from integration_api.providers.twilio import regions as twilio_regions
from integration_api.providers.vonage import regions as vonage_regions

# Google Cloud's region shape: `us-central1`, `europe-west4`, `northamerica-northeast1`.
GCP_REGION_PATTERN = r"[a-z]+-[a-z]+[0-9]{1,2}"
_PLACEHOLDERS = {"{aws-region}": AWS_REGION_PATTERN, "{gcp-region}": GCP_REGION_PATTERN}
_PLACEHOLDER = re.compile("|".join(re.escape(name) for name in _PLACEHOLDERS))

# Bedrock's runtime (chat, embeddings), control plane (model listing) and agent runtime
# (rerank), each with its FIPS twin, per region.
_BEDROCK_SERVICES = ("bedrock", "bedrock-runtime", "bedrock-agent-runtime")

PROVIDER_HOSTS: dict[str, tuple[str, ...]] = {
    "openai": ("api.openai.com", "*.api.openai.com"),
    # Every name under these is an Azure AI resource Microsoft runs; which one is the
    # customer's is what the credential's own `base_url` says (see docs/threat-model.md).
    "azure-openai": (
        "*.openai.azure.com",
        "*.cognitiveservices.azure.com",
        "*.services.ai.azure.com",
    ),
    "anthropic": ("api.anthropic.com",),
    "gemini": ("generativelanguage.googleapis.com",),
    "vertex-ai": (
        "aiplatform.googleapis.com",
        "{gcp-region}-aiplatform.googleapis.com",
        "oauth2.googleapis.com",
    ),
    "bedrock": tuple(
        f"{service}{fips}.{{aws-region}}.amazonaws.com"
        for service in _BEDROCK_SERVICES
        for fips in ("", "-fips")
    ),
    "cohere": ("api.cohere.com", "api.cohere.ai"),
    "mistral": ("api.mistral.ai", "codestral.mistral.ai"),
    # Dedicated Inference Endpoints (`*.endpoints.huggingface.cloud`) belong to whoever created
    # them: each is allowed only by its own `EGRESS_ALLOW` entry.
    "huggingface": ("router.huggingface.co", "huggingface.co", "api-inference.huggingface.co"),
    # Predictions stream from hosts of their own, named in each prediction's `urls.stream`.
    "replicate": (
        "api.replicate.com",
        "stream.replicate.com",
        "*.replicate.delivery",
        "*.replicate.net",
    ),
    "voyageai": ("api.voyageai.com",),
    "deepgram": ("api.deepgram.com", "api.eu.deepgram.com"),
    "elevenlabs": ("api.elevenlabs.io", "*.elevenlabs.io"),
    "cartesia": ("api.cartesia.ai",),
    "assemblyai": (
        "api.assemblyai.com",
        "api.eu.assemblyai.com",
        "streaming.assemblyai.com",
        "streaming.eu.assemblyai.com",
    ),
    # Telephony: the REST hosts and every regional host a `config.region` can name, listed one
    # by one (the folders' `regions.py`); no wildcard.
    "twilio": twilio_regions.HOSTS,
    "vonage": vonage_regions.HOSTS,
    "plivo": ("api.plivo.com",),
    "telnyx": ("api.telnyx.com",),
    "exotel": exotel_regions.HOSTS,
    # OAuth client credentials and tokens: token, userinfo and revocation endpoints.
    "google-oauth": ("oauth2.googleapis.com", "openidconnect.googleapis.com", "www.googleapis.com"),
    "github-oauth": ("github.com", "api.github.com"),
}


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


_PROVIDER_PATTERNS = {
    provider: tuple(host_pattern(glob) for glob in globs)
    for provider, globs in PROVIDER_HOSTS.items()
}


def matches_provider_host(provider: str, name: str) -> bool:
    """Whether the normalized host `name` is one of `provider`'s own hosts."""
    return any(pattern.fullmatch(name) for pattern in _PROVIDER_PATTERNS.get(provider, ()))
