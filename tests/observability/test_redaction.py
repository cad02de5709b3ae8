"""The contract's secret fields, and only those, are redacted wherever messages are logged."""

from __future__ import annotations

import json

import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    AwsSecret,
    AzureSecret,
    CompleteAuthorizationRequest,
    CreateCredentialRequest,
    CredentialSecret,
    GcpServiceAccountSecret,
    GetAccessTokenResponse,
)

from integration_api.observability.redaction import (
    REDACTED,
    mask_sensitive_keys,
    redact_message,
    secret_fields,
)

CANARY = "canary-9f2e41d0c7"


def test_secret_fields_come_from_the_contract() -> None:
    table = secret_fields()
    assert table["ApiKeySecret"] == {"key"}
    assert table["AwsSecret"] == {"secret_access_key", "session_token"}
    assert table["GcpServiceAccountSecret"] == {"json"}
    assert table["GetAccessTokenResponse"] == {"access_token"}
    assert "Credential" not in table


@pytest.mark.parametrize(
    "secret",
    [
        CredentialSecret(api_key=ApiKeySecret(key=CANARY)),
        CredentialSecret(azure=AzureSecret(api_key=CANARY)),
        CredentialSecret(aws=AwsSecret(access_key_id="AKIDPUBLIC", secret_access_key=CANARY)),
        CredentialSecret(gcp_service_account=GcpServiceAccountSecret(json=CANARY)),
    ],
)
def test_every_secret_kind_is_redacted_and_the_rest_kept(secret: CredentialSecret) -> None:
    request = CreateCredentialRequest(provider="openai", name="visible-name", secret=secret)
    picture = json.dumps(redact_message(request))
    assert CANARY not in picture
    assert REDACTED in picture
    assert "visible-name" in picture


def test_tokens_and_codes_are_redacted() -> None:
    for message in (
        GetAccessTokenResponse(access_token=CANARY, token_type="Bearer"),
        CompleteAuthorizationRequest(state="s", code=CANARY),
    ):
        assert CANARY not in json.dumps(redact_message(message))


def test_log_fields_named_like_secrets_or_urls_with_credentials_are_masked() -> None:
    event = {
        "authorization": f"Bearer {CANARY}",
        "target": f"https://user:{CANARY}@proxy.example.com/v1",
        "note": "plain",
    }
    masked = mask_sensitive_keys(None, "info", dict(event))
    assert CANARY not in json.dumps(masked)
    assert masked["note"] == "plain"
