"""Page tokens are authenticated with the keyring and their values bounded before any query."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime

import pytest

from integration_api.errors import InvalidArgument
from integration_api.store.pagination import (
    MAX_POSITION_NUMBER,
    PageTokens,
    id_before,
    keyset_after,
)
from integration_api.vault import Keyring, generate_key

SCOPE = "0123456789abcdef"


def _tokens(*decrypt_only: str) -> tuple[PageTokens, str]:
    primary = generate_key()
    return PageTokens(Keyring.from_settings(primary, ",".join(decrypt_only))), primary


def _refused(tokens: PageTokens, token: str) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as raised:
        tokens.decode(token, SCOPE)
    assert [violation.field for violation in raised.value.violations] == ["page_token"]
    return raised.value


def _checksummed(position: list[object], scope: str = SCOPE) -> str:
    """A token as anyone could build it when tokens carried only an unkeyed checksum."""
    payload = json.dumps({"p": position, "s": scope}, separators=(",", ":")).encode()
    checksum = hashlib.sha256(b"integration-api/page-token/v1\x00" + payload).digest()[:8]
    return base64.urlsafe_b64encode(payload + checksum).decode().rstrip("=")


def test_a_token_round_trips_under_its_keyring() -> None:
    tokens, _ = _tokens()
    row = str(uuid.uuid4())
    assert tokens.decode(tokens.encode(["2026-01-01T00:00:00+00:00", row], SCOPE), SCOPE) == [
        "2026-01-01T00:00:00+00:00",
        row,
    ]


def test_a_token_built_without_the_key_is_refused() -> None:
    tokens, _ = _tokens()
    _refused(tokens, _checksummed([10**20]))
    other, _ = _tokens()
    _refused(tokens, other.encode([5], SCOPE))


def test_a_tampered_token_is_refused() -> None:
    tokens, _ = _tokens()
    token = tokens.encode([41], SCOPE)
    key_id, tag, payload = token.split(".")
    moved = base64.urlsafe_b64encode(b'{"p":[1],"s":"' + SCOPE.encode() + b'"}').decode()
    for tampered in (
        f"{key_id}.{tag}.{moved.rstrip('=')}",
        f"{key_id}.{tag[:-2]}AA.{payload}",
        f"k0000000000000000.{tag}.{payload}",
        token + "A",
        token.replace(".", ""),
        "garbage",
        "é.é.é",
        token + "." * 2000,
    ):
        _refused(tokens, tampered)


def test_a_token_of_another_query_is_refused() -> None:
    tokens, _ = _tokens()
    refusal = _refused(tokens, tokens.encode([41], "fedcba9876543210"))
    assert refusal.violations[0].description == "does not belong to this query"


def test_a_token_made_before_a_key_promotion_still_opens() -> None:
    before, old_primary = _tokens()
    token = before.encode([41], SCOPE)
    after = PageTokens(Keyring.from_settings(generate_key(), old_primary))
    assert after.decode(token, SCOPE) == [41]


@pytest.mark.parametrize(
    "position",
    [[10**20], [-1], [MAX_POSITION_NUMBER + 1], [True], [1.5], ["x" * 65], [], [1] * 5, [None]],
    ids=["1e20", "negative", "past-bigint", "bool", "float", "long-text", "empty", "five", "null"],
)
def test_an_authentic_token_with_values_out_of_bounds_is_refused(position: list[object]) -> None:
    tokens, _ = _tokens()
    _refused(tokens, tokens.encode(position, SCOPE))  # type: ignore[arg-type]


def test_positions_are_read_only_in_the_shapes_the_service_writes() -> None:
    row = uuid.uuid4()
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert keyset_after([when.isoformat(), str(row)]) == (when, row)
    assert id_before([MAX_POSITION_NUMBER]) == MAX_POSITION_NUMBER
    for keyset in ([when.isoformat()], ["2026-01-01T00:00:00", str(row)], [when.isoformat(), "x"]):
        with pytest.raises(InvalidArgument):
            keyset_after(keyset)  # type: ignore[arg-type]
    for ids in ([0], ["1"], [1, 2]):
        with pytest.raises(InvalidArgument):
            id_before(ids)  # type: ignore[arg-type]
