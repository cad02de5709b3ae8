"""The v1 envelope: a stable format, bound to its row, and one opaque error for every failure."""

from __future__ import annotations

import base64
import dataclasses
import pickle

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from integration_api.vault import (
    AssociatedData,
    DecryptionError,
    Envelope,
    Keyring,
    UnknownKeyError,
    key_id,
)
from integration_api.vault.errors import DECRYPTION_FAILED

# A ciphertext written by format v1. It must decrypt in every future version of the service.
KNOWN_KEY = "M+482rHU6yq5YrPVrl0jm1Y0dCAe5kV5UAW4ySzOVv0="
KNOWN_AAD = AssociatedData("org-2718", "project-31", "cred-0f9e8d7c", "openai")
KNOWN_PLAINTEXT = b'{"api_key":"sk-known-answer-0001"}'
KNOWN_CIPHERTEXT = bytes.fromhex(
    "49415601e08806fde3f05a86b65a2464946f927adf8e8c2bc90a6ee6a5bc360a31023b61da337be4"
    "bff43b3460169e95141f0e1eacc9a8fe1c53e4d030f2fca5562cb0cad73d8c7aafa9"
)

PRIMARY = bytes(range(32))
OTHER = bytes(range(64, 96))
AAD = AssociatedData("org-1", "project-1", "cred-1", "anthropic")
SECRET = b"sk-ant-secret-value"


@pytest.fixture
def envelope() -> Envelope:
    return Envelope(Keyring(PRIMARY))


def test_checked_in_v1_ciphertext_decrypts() -> None:
    envelope = Envelope(Keyring.from_settings(KNOWN_KEY))
    assert envelope.decrypt(KNOWN_CIPHERTEXT, KNOWN_AAD) == KNOWN_PLAINTEXT
    assert envelope.key_id_of(KNOWN_CIPHERTEXT) == "ke08806fde3f05a86"


def test_checked_in_v1_ciphertext_has_the_documented_layout() -> None:
    key = Keyring.from_settings(KNOWN_KEY)
    header, nonce, sealed = KNOWN_CIPHERTEXT[:12], KNOWN_CIPHERTEXT[12:24], KNOWN_CIPHERTEXT[24:]
    assert header[:4] == b"IAV\x01"
    assert header[4:].hex() == key.primary_key_id[1:]
    aead = AESGCM(base64.b64decode(KNOWN_KEY))
    assert aead.decrypt(nonce, sealed, header + KNOWN_AAD.encode()) == KNOWN_PLAINTEXT
    assert len(sealed) == len(KNOWN_PLAINTEXT) + 16


def test_associated_data_encoding_is_fixed_for_format_v1() -> None:
    assert KNOWN_AAD.encode() == (
        b"\x01"
        b"\x00\x00\x00\x08org-2718"
        b"\x00\x00\x00\x0aproject-31"
        b"\x00\x00\x00\x0dcred-0f9e8d7c"
        b"\x00\x00\x00\x06openai"
    )


@pytest.mark.parametrize("plaintext", [b"", b"x", SECRET, bytes(range(256)) * 64])
def test_encrypt_then_decrypt_returns_the_plaintext(envelope: Envelope, plaintext: bytes) -> None:
    ciphertext = envelope.encrypt(plaintext, AAD)
    assert envelope.decrypt(ciphertext, AAD) == plaintext
    assert len(ciphertext) == 12 + 12 + len(plaintext) + 16
    assert ciphertext.startswith(b"IAV\x01")


def test_ciphertext_does_not_contain_the_plaintext_or_the_key(envelope: Envelope) -> None:
    ciphertext = envelope.encrypt(SECRET * 4, AAD)
    assert SECRET not in ciphertext
    assert PRIMARY not in ciphertext


def test_encrypting_the_same_plaintext_twice_gives_different_ciphertexts(
    envelope: Envelope,
) -> None:
    assert envelope.encrypt(SECRET, AAD) != envelope.encrypt(SECRET, AAD)


@pytest.mark.parametrize(
    "moved",
    [
        pytest.param(dataclasses.replace(AAD, organization_id="org-2"), id="other-organization"),
        pytest.param(dataclasses.replace(AAD, project_id="project-2"), id="other-project"),
        pytest.param(dataclasses.replace(AAD, project_id=""), id="no-project"),
        pytest.param(dataclasses.replace(AAD, credential_id="cred-2"), id="other-credential"),
        pytest.param(dataclasses.replace(AAD, provider="openai"), id="other-provider"),
        pytest.param(
            AssociatedData("org-1project-1", "", "cred-1", "anthropic"), id="fields-run-together"
        ),
        pytest.param(
            AssociatedData("project-1", "org-1", "cred-1", "anthropic"), id="fields-swapped"
        ),
    ],
)
def test_ciphertext_moved_to_another_row_does_not_decrypt(
    envelope: Envelope, moved: AssociatedData
) -> None:
    ciphertext = envelope.encrypt(SECRET, AAD)
    with pytest.raises(DecryptionError):
        envelope.decrypt(ciphertext, moved)


def test_associated_data_encodings_differ_wherever_the_field_boundaries_differ() -> None:
    splits = [
        AssociatedData("a", "bc", "d", "e"),
        AssociatedData("ab", "c", "d", "e"),
        AssociatedData("a", "b", "cd", "e"),
        AssociatedData("a\x00\x00\x00\x01b", "", "c", "d"),
        AssociatedData("a", "b", "c", "d\x00"),
    ]
    assert len({split.encode() for split in splits}) == len(splits)


@pytest.mark.parametrize("field", ["organization_id", "credential_id", "provider"])
def test_associated_data_requires_its_identifying_fields(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(AAD, **{field: ""})


def test_associated_data_must_be_the_typed_binding_not_raw_bytes(envelope: Envelope) -> None:
    ciphertext = envelope.encrypt(SECRET, AAD)
    with pytest.raises(TypeError):
        envelope.encrypt(SECRET, AAD.encode())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        envelope.decrypt(ciphertext, AAD.encode())  # type: ignore[arg-type]


def test_every_single_byte_flip_is_rejected(envelope: Envelope) -> None:
    ciphertext = envelope.encrypt(SECRET, AAD)
    accepted = []
    for position in range(len(ciphertext)):
        for mask in (0x01, 0x80, 0xFF):
            tampered = bytearray(ciphertext)
            tampered[position] ^= mask
            try:
                envelope.decrypt(bytes(tampered), AAD)
            except DecryptionError:
                continue
            accepted.append((position, mask))
    assert accepted == []


def test_every_truncation_is_rejected(envelope: Envelope) -> None:
    ciphertext = envelope.encrypt(SECRET, AAD)
    for length in range(len(ciphertext)):
        with pytest.raises(DecryptionError):
            envelope.decrypt(ciphertext[:length], AAD)


@pytest.mark.parametrize("suffix", [b"\x00", b"\x01" * 16, b"IAV\x01"])
def test_extended_ciphertext_is_rejected(envelope: Envelope, suffix: bytes) -> None:
    ciphertext = envelope.encrypt(SECRET, AAD)
    with pytest.raises(DecryptionError):
        envelope.decrypt(ciphertext + suffix, AAD)


@pytest.mark.parametrize(
    "ciphertext",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"IAV\x02" + bytes(36), id="future-format-version"),
        pytest.param(b"IAV\x00" + bytes(36), id="format-version-zero"),
        pytest.param(b"XYZ\x01" + bytes(36), id="foreign-magic"),
        pytest.param(b"vault:v1:abcd", id="other-system-token"),
        pytest.param(bytes(39), id="one-byte-short-of-a-header-and-tag"),
    ],
)
def test_malformed_ciphertexts_raise_the_opaque_error(
    envelope: Envelope, ciphertext: bytes
) -> None:
    with pytest.raises(DecryptionError):
        envelope.decrypt(ciphertext, AAD)
    with pytest.raises(DecryptionError):
        envelope.key_id_of(ciphertext)
    with pytest.raises(DecryptionError):
        envelope.rewrap(ciphertext, AAD)


def test_every_failure_cause_gives_the_same_message(envelope: Envelope) -> None:
    ciphertext = envelope.encrypt(SECRET, AAD)
    foreign = Envelope(Keyring(OTHER)).encrypt(SECRET, AAD)
    attempts = [
        (ciphertext[:-1], AAD),
        (ciphertext + b"\x00", AAD),
        (ciphertext[:-1] + bytes([ciphertext[-1] ^ 1]), AAD),
        (ciphertext, dataclasses.replace(AAD, credential_id="cred-2")),
        (b"IAV\x02" + ciphertext[4:], AAD),
        (foreign, AAD),
    ]
    messages = set()
    for candidate, aad in attempts:
        with pytest.raises(DecryptionError) as raised:
            envelope.decrypt(candidate, aad)
        messages.add(str(raised.value))
        assert SECRET.decode() not in repr(raised.value)
        assert raised.value.__cause__ is None
        assert raised.value.__suppress_context__ or raised.value.__context__ is None
    assert messages == {DECRYPTION_FAILED}


def test_unknown_key_id_is_reported_by_id_only(envelope: Envelope) -> None:
    foreign = Envelope(Keyring(OTHER)).encrypt(SECRET, AAD)
    with pytest.raises(UnknownKeyError) as raised:
        envelope.decrypt(foreign, AAD)
    assert raised.value.key_id == key_id(OTHER)
    assert str(raised.value) == DECRYPTION_FAILED


def test_decrypt_uses_only_the_key_the_header_names() -> None:
    """A vault that tried keys in turn would accept this: the header names another key."""
    envelope = Envelope(Keyring(PRIMARY, [OTHER]))
    header = b"IAV\x01" + bytes.fromhex(key_id(PRIMARY)[1:])
    nonce = bytes(12)
    sealed = AESGCM(OTHER).encrypt(nonce, SECRET, header + AAD.encode())
    with pytest.raises(DecryptionError):
        envelope.decrypt(header + nonce + sealed, AAD)


def test_key_id_of_reads_the_header_without_decrypting(envelope: Envelope) -> None:
    ciphertext = envelope.encrypt(SECRET, AAD)
    assert envelope.key_id_of(ciphertext) == key_id(PRIMARY)
    assert Envelope(Keyring(OTHER)).key_id_of(ciphertext) == key_id(PRIMARY)


def test_decryption_errors_pickle_with_the_key_id_and_nothing_else() -> None:
    restored = pickle.loads(pickle.dumps(UnknownKeyError(key_id(OTHER))))
    assert isinstance(restored, UnknownKeyError)
    assert restored.key_id == key_id(OTHER)
    assert str(restored) == DECRYPTION_FAILED
    assert str(pickle.loads(pickle.dumps(DecryptionError()))) == DECRYPTION_FAILED


def test_every_encryption_is_counted_under_its_key_id() -> None:
    from integration_api.vault import AssociatedData, Envelope, Keyring, generate_key, parse_key

    counted: list[str] = []
    keyring = Keyring(parse_key(generate_key()))
    envelope = Envelope(keyring, on_encrypt=counted.append)
    aad = AssociatedData("org", "project", "credential", "openai")
    for _ in range(3):
        envelope.encrypt(b"secret", aad)
    envelope.decrypt(envelope.encrypt(b"secret", aad), aad)
    assert counted == [keyring.primary_key_id] * 4
