"""The cost formula for each unit, and which price applies to a record (entry and time)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import count

from integration_api.principal import Tenant
from integration_api.store.usage_prices import PriceAmounts, StoredPrice
from integration_api.usage.pricing import PriceTable, cost_micros
from integration_api.usage.record import UsageRecord

TENANT = Tenant("org", "p1")
JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
_ids = count(1)


def record(**used: object) -> UsageRecord:
    fields: dict[str, object] = {
        "tenant": TENANT,
        "operation": "chat",
        "provider": "prov",
        "outcome": "ok",
        "started_at": FEB.timestamp(),
        "duration_seconds": 1.0,
        **used,
    }
    return UsageRecord(**fields)  # type: ignore[arg-type]


def amounts(**figures: str) -> PriceAmounts:
    return PriceAmounts(**{name: Decimal(value) for name, value in figures.items()})


def row(model: str, since: datetime, version: int = 1, **figures: str) -> StoredPrice:
    return StoredPrice(
        id=next(_ids),
        provider="prov",
        model=model,
        version=version,
        effective_from=since,
        amounts=amounts(**figures),
        source="operator",
        set_by="subject:olga",
        set_at=since,
        note="",
    )


def test_cache_write_and_cached_read_are_priced_apart_from_plain_input() -> None:
    # Anthropic-style figures: input 3, 5-minute cache write 3.75, cache hit 0.30, output 15.
    claude = amounts(
        usd_per_million_input_tokens="3",
        usd_per_million_cache_write_input_tokens="3.75",
        usd_per_million_cached_input_tokens="0.30",
        usd_per_million_output_tokens="15",
    )
    used = record(
        input_tokens=10_000,
        cache_write_input_tokens=2_000,
        cached_input_tokens=7_000,
        output_tokens=500,
    )
    # 1,000 plain * 3 + 2,000 * 3.75 + 7,000 * 0.30 + 500 * 15 micro-dollars.
    assert cost_micros(used, claude) == Decimal("3000") + 7500 + 2100 + 7500


def test_cached_and_cache_write_fall_back_to_the_input_price() -> None:
    plain = amounts(usd_per_million_input_tokens="2.5", usd_per_million_output_tokens="10")
    used = record(input_tokens=4_000, cached_input_tokens=1_000, cache_write_input_tokens=1_000)
    assert cost_micros(used, plain) == Decimal("10000")


def test_non_cached_input_never_goes_below_zero() -> None:
    price = amounts(usd_per_million_input_tokens="1", usd_per_million_cached_input_tokens="0.1")
    # A provider reporting more cached tokens than input: the plain part is 0, not negative.
    used = record(input_tokens=100, cached_input_tokens=300)
    assert cost_micros(used, price) == Decimal("30")


def test_reasoning_is_within_output_and_priced_at_its_own_figure_or_the_output_one() -> None:
    used = record(output_tokens=1_000, reasoning_tokens=600)
    own = amounts(usd_per_million_output_tokens="4", usd_per_million_reasoning_tokens="8")
    assert cost_micros(used, own) == Decimal(400 * 4 + 600 * 8)
    fallback = amounts(usd_per_million_output_tokens="4")
    assert cost_micros(used, fallback) == Decimal(1_000 * 4)


def test_audio_minutes_in_and_out() -> None:
    price = amounts(usd_per_audio_minute_in="0.0043", usd_per_audio_minute_out="0.015")
    used = record(operation="transcribe", audio_seconds_in=90.0, audio_seconds_out=30.0)
    # 1.5 min * $0.0043 = $0.00645; 0.5 min * $0.015 = $0.0075 (micro-dollars: * 10^6).
    assert cost_micros(used, price) == Decimal("6450") + Decimal("7500")


def test_fractional_audio_seconds_are_kept_to_the_column_scale() -> None:
    price = amounts(usd_per_audio_minute_in="0.006")
    used = record(operation="transcribe", audio_seconds_in=1.1)
    # 1.1 s / 60 * 0.006 * 10^6 = 110 micro-dollars exactly (no float drift: 1.1 read as 1.1).
    assert cost_micros(used, price) == Decimal("110")
    odd = record(operation="transcribe", audio_seconds_in=1.0)
    # 100 micro-dollars per minute over 1 s = 1.666… → kept to 10^-6 micro-dollars.
    assert cost_micros(odd, amounts(usd_per_audio_minute_in="0.0001")) == Decimal("1.666667")


def test_characters_and_search_units() -> None:
    speech = amounts(usd_per_million_characters="15")
    assert cost_micros(record(operation="synthesize", characters=1_234), speech) == 18_510
    rerank = amounts(usd_per_thousand_search_units="2")
    # $2 per 1,000 units: 3 units cost $0.006.
    assert cost_micros(record(operation="rerank", search_units=3), rerank) == 6_000


def test_an_unset_unit_is_not_billed() -> None:
    only_output = amounts(usd_per_million_output_tokens="1")
    assert cost_micros(record(input_tokens=1_000_000, characters=50), only_output) == 0


def test_amounts_with_ten_fractional_digits_are_exact() -> None:
    tiny = amounts(usd_per_million_input_tokens="0.0000000001")
    assert cost_micros(record(input_tokens=3), tiny) == Decimal("0.000000")
    assert cost_micros(record(input_tokens=30_000), tiny) == Decimal("0.000003")


def test_exact_model_then_longest_family_then_star() -> None:
    table = PriceTable(
        [
            row("*", JAN, usd_per_million_input_tokens="9"),
            row("gpt-4o", JAN, usd_per_million_input_tokens="2.5"),
            row("gpt-4o-mini", JAN, usd_per_million_input_tokens="0.15"),
            row("gpt-4o-2024-08-06", JAN, usd_per_million_input_tokens="2"),
        ]
    )
    at = FEB.timestamp()

    def model_of(model: str) -> str:
        found = table.price_for("prov", model, at)
        assert found is not None
        return found.model

    assert model_of("gpt-4o-2024-08-06") == "gpt-4o-2024-08-06"
    assert model_of("gpt-4o-mini-2024-07-18") == "gpt-4o-mini"
    assert model_of("gpt-4o-2025-01-01") == "gpt-4o"
    # A family is a prefix followed by "-": "gpt-4o" does not price "gpt-4omni".
    assert model_of("gpt-4omni") == "*"
    assert model_of("other") == "*"
    assert table.price_for("another-provider", "gpt-4o", at) is None


def test_a_more_specific_entry_counts_only_from_its_own_effective_from() -> None:
    table = PriceTable(
        [
            row("gpt-4o", JAN, usd_per_million_input_tokens="2.5"),
            row("gpt-4o-mini", MAR, usd_per_million_input_tokens="0.15"),
        ]
    )
    before = table.price_for("prov", "gpt-4o-mini", FEB.timestamp())
    after = table.price_for("prov", "gpt-4o-mini", MAR.timestamp())
    assert before is not None and before.model == "gpt-4o"
    assert after is not None and after.model == "gpt-4o-mini"


def test_the_latest_effective_from_at_or_before_the_start_wins() -> None:
    table = PriceTable(
        [
            row("m", MAR, version=2, usd_per_million_input_tokens="2"),
            row("m", JAN, version=1, usd_per_million_input_tokens="1"),
        ]
    )
    assert table.price_for("prov", "m", JAN.timestamp() - 1) is None
    first = table.price_for("prov", "m", JAN.timestamp())
    last_before = table.price_for("prov", "m", MAR.timestamp() - 0.001)
    second = table.price_for("prov", "m", MAR.timestamp())
    assert first is not None and last_before is not None and second is not None
    assert (first.version, last_before.version, second.version) == (1, 1, 2)


def test_a_record_is_priced_with_the_price_in_force_at_its_start() -> None:
    old, new = (
        row("m", JAN, 1, usd_per_million_input_tokens="1"),
        row("m", MAR, 2, usd_per_million_input_tokens="3"),
    )
    table = PriceTable([old, new])
    february = table.cost(record(model="m", input_tokens=1_000, started_at=FEB.timestamp()))
    march = table.cost(record(model="m", input_tokens=1_000, started_at=MAR.timestamp()))
    assert february.micros == Decimal(1000) and february.price_id == old.id
    assert march.micros == Decimal(3000) and march.price_id == new.id
    assert (february.price_version, march.price_version) == (1, 2)


def test_unpriced_only_when_something_billable_was_used() -> None:
    table = PriceTable([])
    used = table.cost(record(model="m", input_tokens=5))
    nothing = table.cost(record(model="m", outcome="unavailable"))
    assert used.unpriced and used.micros == 0 and used.price_id is None
    assert not nothing.unpriced and nothing.micros == 0


def test_a_synthesis_without_a_model_is_priced_by_its_voice() -> None:
    table = PriceTable([row("aura-2-thalia-en", JAN, usd_per_million_characters="30")])
    spoken = table.cost(record(operation="synthesize", voice="aura-2-thalia-en", characters=100))
    assert spoken.micros == 3000
