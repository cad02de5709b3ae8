"""Payloads of Opstage commands are checked before anything runs or is stored."""

from __future__ import annotations

import uuid

from integration_api.ops.opstage.catalogue import payload_violations


def test_a_reason_with_a_nul_character_is_refused() -> None:
    payload = {"credentialId": str(uuid.uuid4()), "reason": "leaked\x00"}
    assert payload_violations("disableCredential", payload) == [
        "reason must be text of at most 500 characters, without NUL"
    ]


def test_a_credential_id_with_a_trailing_newline_is_refused() -> None:
    payload = {"credentialId": f"{uuid.uuid4()}\n", "reason": "leaked"}
    assert payload_violations("disableCredential", payload) == [
        "credentialId must be a credential id (a UUID)"
    ]
