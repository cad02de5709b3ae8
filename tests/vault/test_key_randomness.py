"""A primary key must look random: production refuses one that was typed or derived from text."""

from __future__ import annotations

import pytest

from integration_api.vault import InvalidKeyError, generate_key, parse_key
from integration_api.vault.keys import require_random_looking


def test_generated_keys_are_accepted() -> None:
    for _round in range(2000):
        require_random_looking(parse_key(generate_key()), setting="INTEGRATION_CRYPTO_KEY")


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (bytes(32), "has fewer than 16 distinct bytes"),
        (bytes(range(8)) * 4, "has fewer than 16 distinct bytes"),
        (b"correct-horse-battery-staple-42!", "decodes to plain text"),
    ],
)
def test_keys_that_cannot_come_from_a_random_generator_are_refused(key: bytes, reason: str) -> None:
    with pytest.raises(InvalidKeyError, match=f"INTEGRATION_CRYPTO_KEY {reason}"):
        require_random_looking(key, setting="INTEGRATION_CRYPTO_KEY")
