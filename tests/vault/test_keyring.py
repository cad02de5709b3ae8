"""The keyring: which keys it holds, how it is configured, and that it never shows key material."""

from __future__ import annotations

import base64
import copy
import pickle

import pytest

from integration_api.vault import InvalidKeyError, Keyring, UnknownKeyError, key_id

PRIMARY = bytes(range(32))
OLDER = bytes(range(100, 132))
OLDEST = bytes(range(200, 232))


def spellings(key: bytes) -> list[str]:
    return [
        key.hex(),
        key.hex().upper(),
        base64.b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode().rstrip("="),
        repr(key),
    ]


def test_key_ids_list_the_primary_first_then_decrypt_only_keys_in_order() -> None:
    keyring = Keyring(PRIMARY, [OLDER, OLDEST])
    assert keyring.primary_key_id == key_id(PRIMARY)
    assert keyring.decrypt_only_key_ids == (key_id(OLDER), key_id(OLDEST))
    assert keyring.key_ids == (key_id(PRIMARY), key_id(OLDER), key_id(OLDEST))


def test_has_answers_for_held_keys_only() -> None:
    keyring = Keyring(PRIMARY, [OLDER])
    assert keyring.has(key_id(PRIMARY))
    assert keyring.has(key_id(OLDER))
    assert not keyring.has(key_id(OLDEST))


def test_primary_listed_again_as_decrypt_only_is_held_once() -> None:
    keyring = Keyring(PRIMARY, [PRIMARY, OLDER, OLDER])
    assert keyring.key_ids == (key_id(PRIMARY), key_id(OLDER))


def test_lookup_of_a_key_not_held_names_only_its_id() -> None:
    with pytest.raises(UnknownKeyError) as raised:
        Keyring(PRIMARY).aead_for(key_id(OLDER))
    assert raised.value.key_id == key_id(OLDER)


def test_from_settings_parses_primary_and_comma_separated_decrypt_only_keys() -> None:
    keyring = Keyring.from_settings(
        base64.b64encode(PRIMARY).decode(),
        f" {OLDER.hex()} , {base64.urlsafe_b64encode(OLDEST).decode()},",
    )
    assert keyring.key_ids == (key_id(PRIMARY), key_id(OLDER), key_id(OLDEST))


@pytest.mark.parametrize("decrypt_only", ["", "   ", ",", " , ,"])
def test_from_settings_accepts_an_empty_decrypt_only_list(decrypt_only: str) -> None:
    keyring = Keyring.from_settings(PRIMARY.hex(), decrypt_only)
    assert keyring.key_ids == (key_id(PRIMARY),)


def test_from_settings_names_the_bad_entry_without_showing_any_key() -> None:
    bad_entry = "not-a-key-but-maybe-a-secret"
    with pytest.raises(InvalidKeyError) as raised:
        Keyring.from_settings(PRIMARY.hex(), f"{OLDER.hex()},{bad_entry}")
    message = str(raised.value)
    assert "INTEGRATION_CRYPTO_KEYS entry #2" in message
    assert bad_entry not in message
    for spelling in spellings(PRIMARY) + spellings(OLDER):
        assert spelling not in message


def test_from_settings_names_a_bad_primary_setting() -> None:
    with pytest.raises(InvalidKeyError, match="INTEGRATION_CRYPTO_KEY must be"):
        Keyring.from_settings("", "")


@pytest.mark.parametrize("material", [b"", b"x" * 31, b"x" * 33])
def test_raw_keys_of_the_wrong_length_are_refused(material: bytes) -> None:
    with pytest.raises(InvalidKeyError):
        Keyring(material)
    with pytest.raises(InvalidKeyError, match="decrypt-only key #1"):
        Keyring(PRIMARY, [material])


def test_repr_and_str_show_key_ids_and_no_key_material() -> None:
    keyring = Keyring(PRIMARY, [OLDER])
    for rendered in (repr(keyring), str(keyring), f"{keyring}", repr([keyring])):
        assert key_id(PRIMARY) in rendered
        assert key_id(OLDER) in rendered
        for spelling in spellings(PRIMARY) + spellings(OLDER):
            assert spelling not in rendered


def test_keyring_holds_no_attribute_with_raw_key_bytes() -> None:
    keyring = Keyring(PRIMARY, [OLDER])
    values = [getattr(keyring, slot) for slot in type(keyring).__slots__]
    assert PRIMARY not in values
    assert OLDER not in values
    assert not hasattr(keyring, "__dict__")


def test_keyring_cannot_be_pickled_or_copied() -> None:
    keyring = Keyring(PRIMARY)
    with pytest.raises(TypeError):
        pickle.dumps(keyring)
    with pytest.raises(TypeError):
        copy.copy(keyring)
    with pytest.raises(TypeError):
        copy.deepcopy(keyring)


def test_secret_fingerprint_matches_for_equal_secrets_only() -> None:
    keyring = Keyring(PRIMARY)
    first = keyring.secret_fingerprint(b"sk-live-abc")
    assert first == keyring.secret_fingerprint(b"sk-live-abc")
    assert first != keyring.secret_fingerprint(b"sk-live-abd")
    assert first.startswith("fp_")
    assert len(first) == 3 + 16


def test_secret_fingerprint_is_keyed_by_the_primary_key() -> None:
    secret = b"sk-live-abc"
    under_primary = Keyring(PRIMARY, [OLDER]).secret_fingerprint(secret)
    assert Keyring(PRIMARY).secret_fingerprint(secret) == under_primary
    assert Keyring(OLDER, [PRIMARY]).secret_fingerprint(secret) != under_primary


def test_secret_fingerprint_is_stable_for_a_fixed_key() -> None:
    keyring = Keyring.from_settings("M+482rHU6yq5YrPVrl0jm1Y0dCAe5kV5UAW4ySzOVv0=")
    assert keyring.secret_fingerprint(b"sk-known-answer-0001") == "fp_3b713a419fab1db3"


def test_record_tags_verify_under_the_named_key_only_while_the_ring_holds_it() -> None:
    old, new = OLDER, PRIMARY
    key_id_used, tag = Keyring(old).authenticate_record(b"row")
    assert Keyring(new, [old]).record_is_authentic(key_id_used, b"row", tag)
    assert not Keyring(new, [old]).record_is_authentic(key_id_used, b"row!", tag)
    assert not Keyring(new).record_is_authentic(key_id_used, b"row", tag)  # old key retired
