"""Key rotation through the keyring: add decrypt-only, promote, rewrap, retire."""

from __future__ import annotations

import pytest

from integration_api.vault import (
    AssociatedData,
    DecryptionError,
    Envelope,
    Keyring,
    UnknownKeyError,
    key_id,
)

FIRST = bytes(range(32))
SECOND = bytes(range(32, 64))
SECRET = b"sk-proj-rotating"


def row(number: int) -> AssociatedData:
    return AssociatedData("org-1", "project-1", f"cred-{number}", "openai")


def test_decrypt_only_key_decrypts_old_ciphertexts_and_never_encrypts() -> None:
    old = Envelope(Keyring(FIRST)).encrypt(SECRET, row(1))
    promoted = Envelope(Keyring(SECOND, [FIRST]))
    assert promoted.decrypt(old, row(1)) == SECRET
    for _ in range(20):
        assert promoted.key_id_of(promoted.encrypt(SECRET, row(1))) == key_id(SECOND)


def test_rewrap_moves_a_ciphertext_to_the_primary_key() -> None:
    old = Envelope(Keyring(FIRST)).encrypt(SECRET, row(1))
    promoted = Envelope(Keyring(SECOND, [FIRST]))
    assert promoted.needs_rewrap(old)
    rewrapped = promoted.rewrap(old, row(1))
    assert promoted.key_id_of(rewrapped) == key_id(SECOND)
    assert not promoted.needs_rewrap(rewrapped)
    assert promoted.decrypt(rewrapped, row(1)) == SECRET
    assert Envelope(Keyring(SECOND)).decrypt(rewrapped, row(1)) == SECRET


def test_rewrap_under_the_current_primary_gives_a_fresh_equivalent_ciphertext() -> None:
    envelope = Envelope(Keyring(FIRST))
    original = envelope.encrypt(SECRET, row(1))
    rewrapped = envelope.rewrap(original, row(1))
    assert rewrapped != original
    assert envelope.decrypt(rewrapped, row(1)) == SECRET


def test_rewrap_keeps_the_row_binding() -> None:
    promoted = Envelope(Keyring(SECOND, [FIRST]))
    rewrapped = promoted.rewrap(Envelope(Keyring(FIRST)).encrypt(SECRET, row(1)), row(1))
    with pytest.raises(DecryptionError) as raised:
        promoted.decrypt(rewrapped, row(2))
    assert not isinstance(raised.value, UnknownKeyError)


def test_retired_key_fails_with_its_key_id() -> None:
    old = Envelope(Keyring(FIRST)).encrypt(SECRET, row(1))
    retired = Envelope(Keyring(SECOND))
    with pytest.raises(UnknownKeyError) as raised:
        retired.decrypt(old, row(1))
    assert raised.value.key_id == key_id(FIRST)


def test_every_row_decrypts_at_every_step_of_a_rotation() -> None:
    rows = {number: Envelope(Keyring(FIRST)).encrypt(SECRET, row(number)) for number in range(10)}
    steps = [
        Keyring(FIRST, [SECOND]),  # new key rolled out as decrypt-only
        Keyring(SECOND, [FIRST]),  # promoted
    ]
    for keyring in steps:
        envelope = Envelope(keyring)
        assert all(envelope.decrypt(text, row(n)) == SECRET for n, text in rows.items())
        rows[len(rows)] = envelope.encrypt(SECRET, row(len(rows)))

    promoted = Envelope(steps[-1])
    for number, text in list(rows.items())[::2]:
        rows[number] = promoted.rewrap(text, row(number))
    assert all(promoted.decrypt(text, row(n)) == SECRET for n, text in rows.items())
    for number, text in rows.items():
        if promoted.needs_rewrap(text):
            rows[number] = promoted.rewrap(text, row(number))
    assert {promoted.key_id_of(text) for text in rows.values()} == {key_id(SECOND)}

    retired = Envelope(Keyring(SECOND))
    assert all(retired.decrypt(text, row(n)) == SECRET for n, text in rows.items())
