"""Key text from configuration: accepted forms, rejected forms, and errors that never echo it."""

from __future__ import annotations

import base64
import hashlib

import pytest

from integration_api.vault import InvalidKeyError, generate_key, key_id, parse_key

# Bytes chosen so that base64 needs both alphabet-specific characters ('+' '/' vs '-' '_').
KEY = bytes([0xFB, 0xFF, 0xBF]) * 10 + b"\x01\x02"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(base64.b64encode(KEY).decode(), id="standard-padded"),
        pytest.param(base64.b64encode(KEY).decode().rstrip("="), id="standard-unpadded"),
        pytest.param(base64.urlsafe_b64encode(KEY).decode(), id="urlsafe-padded"),
        pytest.param(base64.urlsafe_b64encode(KEY).decode().rstrip("="), id="urlsafe-unpadded"),
        pytest.param(KEY.hex(), id="hex-lower"),
        pytest.param(KEY.hex().upper(), id="hex-upper"),
        pytest.param(f"  {KEY.hex()}\n", id="surrounding-whitespace"),
    ],
)
def test_parse_key_accepts_base64_urlsafe_and_hex(text: str) -> None:
    assert parse_key(text) == KEY


def test_the_test_key_really_exercises_both_base64_alphabets() -> None:
    assert "+" in base64.b64encode(KEY).decode()
    assert "/" in base64.b64encode(KEY).decode()
    assert "-" in base64.urlsafe_b64encode(KEY).decode()


REJECTED = [
    pytest.param("", id="empty"),
    pytest.param("correct-horse-battery-staple-1234", id="passphrase-of-32-chars"),
    pytest.param(base64.b64encode(KEY[:31]).decode(), id="base64-of-31-bytes"),
    pytest.param(base64.b64encode(KEY + b"\x00").decode(), id="base64-of-33-bytes"),
    pytest.param(KEY.hex()[:63], id="hex-63-chars"),
    pytest.param(KEY.hex() + "00", id="hex-66-chars"),
    pytest.param(KEY.hex()[:62] + "zz", id="hex-with-non-hex"),
    pytest.param(base64.b64encode(KEY).decode().replace("/", "_", 1), id="mixed-alphabets"),
    pytest.param(base64.b64encode(KEY).decode() + "=", id="over-padded"),
    pytest.param(base64.b64encode(KEY).decode()[:-2] + "1=", id="non-canonical-last-char"),
    pytest.param(base64.b64encode(KEY).decode()[:20] + "!" * 24, id="punctuation"),
    pytest.param("=" * 44, id="only-padding"),
]


@pytest.mark.parametrize("text", REJECTED)
def test_parse_key_rejects_other_forms_naming_the_accepted_ones(text: str) -> None:
    with pytest.raises(InvalidKeyError) as raised:
        parse_key(text, setting="INTEGRATION_CRYPTO_KEY")
    message = str(raised.value)
    assert "INTEGRATION_CRYPTO_KEY" in message
    assert "base64" in message
    assert "URL-safe" in message
    assert "64 hexadecimal characters" in message
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("text", REJECTED)
def test_parse_key_error_never_contains_the_input(text: str) -> None:
    with pytest.raises(InvalidKeyError) as raised:
        parse_key(text)
    stripped = text.strip("= \n")
    rendered = f"{raised.value!s} {raised.value!r}"
    if len(stripped) >= 8:
        for start in range(len(stripped) - 7):
            assert stripped[start : start + 8] not in rendered
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None


def test_generate_key_returns_distinct_parseable_32_byte_keys() -> None:
    generated = {generate_key() for _ in range(100)}
    assert len(generated) == 100
    for text in generated:
        assert len(parse_key(text)) == 32
        assert base64.b64encode(parse_key(text)).decode() == text


def test_key_id_is_stable_and_known_for_a_fixed_key() -> None:
    fixed = base64.b64decode("M+482rHU6yq5YrPVrl0jm1Y0dCAe5kV5UAW4ySzOVv0=")
    assert key_id(fixed) == "ke08806fde3f05a86"


def test_key_id_reveals_neither_the_key_nor_its_plain_hash() -> None:
    identifier = key_id(KEY)
    assert identifier.startswith("k")
    assert len(identifier) == 17
    assert identifier[1:] not in KEY.hex()
    assert identifier[1:] not in hashlib.sha256(KEY).hexdigest()
    assert key_id(KEY) == identifier
    assert key_id(bytes(32)) != identifier


def test_key_id_refuses_material_that_is_not_32_bytes() -> None:
    with pytest.raises(InvalidKeyError):
        key_id(b"short")
