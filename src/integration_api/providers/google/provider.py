"""What Google's folder serves: Gemini (AI Studio, API key) and Vertex AI (service account)."""

from __future__ import annotations

from integration_api.credentials.model import GcpServiceAccount, SecretMaterial
from integration_api.errors import FieldViolation
from integration_api.providers.declaration import ProviderFolder, ProviderSpec
from integration_api.providers.google import chat, embeddings, gemini, vertex
from integration_api.providers.google.service_account import (
    service_account_violations,
    token_uri_of,
)


def vertex_base_url(location: str) -> str:
    """Vertex AI's host for a location (`global` has no regional prefix)."""
    if location == "global":
        return "https://aiplatform.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def _check_service_account(secret: SecretMaterial) -> list[FieldViolation]:
    if isinstance(secret, GcpServiceAccount):
        return service_account_violations(secret)
    return []


GEMINI = ProviderSpec(
    id=gemini.PROVIDER,
    verifier=gemini.VERIFIER,
    chat=chat.GEMINI,
    embedding=embeddings.GEMINI,
    default_base_url="https://generativelanguage.googleapis.com",
    hosts=("generativelanguage.googleapis.com",),
)

VERTEX_AI = ProviderSpec(
    id=vertex.PROVIDER,
    verifier=vertex.VERIFIER,
    secret_kinds=frozenset({GcpServiceAccount.kind}),
    required_config=("region",),
    check_secret=_check_service_account,
    secret_destination=token_uri_of,
    chat=chat.VERTEX_AI,
    embedding=embeddings.VERTEX_AI,
    regional_base_url=vertex_base_url,
    # The token exchange of the service-account key goes to Google's OAuth host.
    hosts=(
        "aiplatform.googleapis.com",
        "{gcp-region}-aiplatform.googleapis.com",
        "oauth2.googleapis.com",
    ),
)

FOLDER = ProviderFolder((GEMINI, VERTEX_AI))
