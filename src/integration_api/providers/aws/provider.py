"""What the AWS folder serves: Bedrock (SigV4 with AWS keys, or a Bedrock API key)."""

from __future__ import annotations

from integration_api.credentials.model import ApiKey, AwsKeys
from integration_api.providers.aws import chat, embeddings, rerank, verification
from integration_api.providers.declaration import ProviderFolder, ProviderSpec
from integration_api.providers.endpoints import AWS_REGION

# Bedrock's runtime (chat, embeddings), control plane (model listing) and agent runtime
# (rerank), each with its FIPS twin, per region.
_SERVICES = ("bedrock", "bedrock-runtime", "bedrock-agent-runtime")


def control_plane_base_url(region: str) -> str:
    """Bedrock's control-plane host for a region (model listing)."""
    return f"https://bedrock.{region}.amazonaws.com"


BEDROCK = ProviderSpec(
    id=verification.PROVIDER,
    verifier=verification.VERIFIER,
    # AWS keys (SigV4), or a Bedrock API key sent as a bearer token.
    secret_kinds=frozenset({AwsKeys.kind, ApiKey.kind}),
    required_config=("region",),
    chat=chat.BEDROCK,
    embedding=embeddings.BEDROCK,
    rerank=rerank.BEDROCK,
    regional_base_url=control_plane_base_url,
    region_shape=AWS_REGION,
    hosts=tuple(
        f"{service}{fips}.{{aws-region}}.amazonaws.com"
        for service in _SERVICES
        for fips in ("", "-fips")
    ),
)

FOLDER = ProviderFolder((BEDROCK,))
