"""AES-256-GCM with 96-bit nonces and 128-bit tags agrees with every Wycheproof case."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from integration_api.vault import Keyring

VECTORS = Path(__file__).parent / "vectors"
WYCHEPROOF_FILE = VECTORS / "wycheproof_aes_gcm_test.json"


@dataclass(frozen=True)
class GcmCase:
    case_id: int
    key: bytes
    nonce: bytes
    aad: bytes
    message: bytes
    sealed: bytes
    valid: bool


def load_envelope_cases() -> list[GcmCase]:
    """The cases matching the envelope's parameters; a missing file fails, it never skips."""
    document = json.loads(WYCHEPROOF_FILE.read_text(encoding="utf-8"))
    cases = []
    for group in document["testGroups"]:
        if (group["keySize"], group["ivSize"], group["tagSize"]) != (256, 96, 128):
            continue
        for test in group["tests"]:
            assert test["result"] in ("valid", "invalid"), test["tcId"]
            cases.append(
                GcmCase(
                    case_id=test["tcId"],
                    key=bytes.fromhex(test["key"]),
                    nonce=bytes.fromhex(test["iv"]),
                    aad=bytes.fromhex(test["aad"]),
                    message=bytes.fromhex(test["msg"]),
                    sealed=bytes.fromhex(test["ct"] + test["tag"]),
                    valid=test["result"] == "valid",
                )
            )
    return cases


@pytest.fixture(scope="module")
def cases() -> list[GcmCase]:
    return load_envelope_cases()


def test_vectors_and_their_licence_are_vendored_with_the_tests() -> None:
    assert WYCHEPROOF_FILE.is_file()
    assert "Apache License" in (VECTORS / "WYCHEPROOF_LICENSE").read_text(encoding="utf-8")
    assert "C2SP/wycheproof" in (VECTORS / "README.md").read_text(encoding="utf-8")


def test_subset_has_66_cases_39_valid_and_27_invalid(cases: list[GcmCase]) -> None:
    assert len(cases) == 66
    assert sum(case.valid for case in cases) == 39
    assert sum(not case.valid for case in cases) == 27


def test_valid_cases_encrypt_to_the_exact_ciphertext_and_tag(cases: list[GcmCase]) -> None:
    mismatched = [
        case.case_id
        for case in cases
        if case.valid
        and AESGCM(case.key).encrypt(case.nonce, case.message, case.aad) != case.sealed
    ]
    assert mismatched == []


def test_valid_cases_decrypt_to_the_message(cases: list[GcmCase]) -> None:
    mismatched = [
        case.case_id
        for case in cases
        if case.valid
        and AESGCM(case.key).decrypt(case.nonce, case.sealed, case.aad) != case.message
    ]
    assert mismatched == []


def test_invalid_cases_are_rejected(cases: list[GcmCase]) -> None:
    accepted = []
    for case in (case for case in cases if not case.valid):
        try:
            AESGCM(case.key).decrypt(case.nonce, case.sealed, case.aad)
        except InvalidTag:
            continue
        accepted.append(case.case_id)
    assert accepted == []


def test_keyring_primitive_matches_every_case(cases: list[GcmCase]) -> None:
    """The primitive the envelope actually encrypts with gives the same answers."""
    wrong = []
    for case in cases:
        _, aead = Keyring(case.key).primary_aead()
        if case.valid:
            ok = aead.encrypt(case.nonce, case.message, case.aad) == case.sealed
        else:
            try:
                aead.decrypt(case.nonce, case.sealed, case.aad)
                ok = False
            except InvalidTag:
                ok = True
        if not ok:
            wrong.append(case.case_id)
    assert wrong == []
