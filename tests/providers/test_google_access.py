"""Where Google's model URLs point, and what the Vertex token cache does without a network."""

from __future__ import annotations

import json

import pytest

from integration_api.credentials.model import (
    ApiKey,
    CredentialConfig,
    GcpServiceAccount,
    ProviderCredential,
)
from integration_api.errors import InvalidArgument
from integration_api.providers.google.access import GEMINI, VERTEX

KEY_FILE = json.dumps(
    {
        "type": "service_account",
        "project_id": "voice-prod",
        "private_key": "unused",
        "client_email": "ci@voice-prod.iam.gserviceaccount.com",
    }
)


def vertex(region: str) -> ProviderCredential:
    return ProviderCredential(
        "cred-1", "vertex-ai", CredentialConfig(region=region), GcpServiceAccount(KEY_FILE)
    )


@pytest.mark.parametrize(
    ("region", "url"),
    [
        (
            "europe-west4",
            "https://europe-west4-aiplatform.googleapis.com/v1/projects/voice-prod/locations/"
            "europe-west4/publishers/google/models/gemini-2.5-flash:streamGenerateContent",
        ),
        (
            "global",
            "https://aiplatform.googleapis.com/v1/projects/voice-prod/locations/global/"
            "publishers/google/models/gemini-2.5-flash:streamGenerateContent",
        ),
    ],
)
def test_a_vertex_model_lives_under_its_project_and_location(region: str, url: str) -> None:
    assert VERTEX.model_url(vertex(region), "gemini-2.5-flash", "streamGenerateContent") == url


def test_a_gemini_model_may_be_named_with_its_models_prefix() -> None:
    credential = ProviderCredential(
        "cred-2", "gemini", CredentialConfig(), ApiKey("AIza" + "k" * 35)
    )
    assert GEMINI.model_url(credential, "models/gemini-2.5-pro", "streamGenerateContent") == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro"
        ":streamGenerateContent"
    )


@pytest.mark.parametrize("model", ["../other", "a/b", "gemini:generateContent?x", ""])
def test_a_model_that_would_change_the_url_path_is_refused(model: str) -> None:
    with pytest.raises(InvalidArgument):
        VERTEX.model_url(vertex("us-central1"), model, "predict")
