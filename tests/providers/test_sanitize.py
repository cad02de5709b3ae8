"""Scrubbing credentials out of provider-supplied text."""

from __future__ import annotations

import pytest

from integration_api.credentials.model import ApiKey, AwsKeys, AzureKey, GcpServiceAccount
from integration_api.providers.sanitize import (
    MAX_MESSAGE_LENGTH,
    REDACTED,
    sanitize_message,
    secret_values,
)


@pytest.mark.parametrize(
    ("text", "secret_part"),
    [
        ("Incorrect API key provided: sk-VKMIs***************************wjh3.", "VKMIs"),
        ("Incorrect API key provided: sk-proj-AbCdEf0123456789GhIjKl.", "AbCdEf0123"),
        ("sent Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "eyJhbGci"),
        ("upstream said Bearer abcdefghijkl for you", "abcdefghijkl"),
        (
            "GET https://x.googleapis.com/v1beta/models?key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
            "AIzaSy",
        ),
        ("GET /models?alt=sse&key=plainwords", "plainwords"),
        ("token hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123 refused", "hf_AbCd"),
        ("replicate r8_Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE refused", "r8_Zx9"),
        ("aws AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "K7MDENG"),
        ("deepgram key 3f1b8e0c9d2a4b6c8e0f1a3b5c7d9e1f2a4b6c8d refused", "3f1b8e0c9d"),
        ("mistral key ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZWtleQ refused", "ZmFrZWtle"),
        (
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
            "-----END PRIVATE KEY-----",
            "MIIEvQ",
        ),
        ("access token ya29.a0AfH6SMBx-fake_token.value expired", "a0AfH6SMBx"),
    ],
)
def test_credential_shaped_text_is_redacted(text: str, secret_part: str) -> None:
    cleaned = sanitize_message(text)

    assert secret_part not in cleaned
    assert REDACTED in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "The model `claude-3-5-sonnet-20241022` does not exist or you do not have access to it.",
        "The model `gpt-4.1-nano-wrong` does not exist",
        "mistralai/Mixtral-8x7B-Instruct-v0.1 is not supported by provider",
        "request 019f5990-aa76-7d53-a2ca-a90ec21c5919 failed",
        "quota GenerateRequestsPerMinutePerProjectPerModel-FreeTier exceeded",
        "The security token included in the request is invalid.",
        "Please retry after 7 seconds.",
        "User: arn:aws:iam::123456789012:user/ci is not authorized",
    ],
)
def test_ordinary_provider_messages_are_kept(text: str) -> None:
    assert sanitize_message(text) == text


def test_known_secret_is_removed_even_when_it_looks_harmless() -> None:
    assert (
        sanitize_message("refused key lowercaseonly", ["lowercaseonly"])
        == f"refused key {REDACTED}"
    )


def test_short_known_secret_does_not_mangle_the_text() -> None:
    assert sanitize_message("a rejected request", ["e"]) == "a rejected request"


def test_message_is_one_line_and_capped() -> None:
    cleaned = sanitize_message("line one\nline two\t" + "word " * 200)

    assert "\n" not in cleaned
    assert len(cleaned) == MAX_MESSAGE_LENGTH
    assert cleaned.endswith("…")


def test_secret_values_cover_every_secret_kind() -> None:
    key_file = '{"private_key": "-----BEGIN PRIVATE KEY-----\\nabc", "private_key_id": "kid123"}'

    assert secret_values(ApiKey("k1")) == ("k1",)
    assert secret_values(AzureKey("k2")) == ("k2",)
    assert secret_values(AwsKeys("AKID", "s3", "t4")) == ("s3", "t4")
    assert secret_values(GcpServiceAccount(key_file))[1:] == (
        "-----BEGIN PRIVATE KEY-----\nabc",
        "kid123",
    )
