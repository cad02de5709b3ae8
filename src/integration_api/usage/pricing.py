"""What a call cost: the price in force at its start, applied to what it used.

Amounts are decimal US dollars per million tokens, per audio minute, per million characters and
per thousand search units; a cost is in micro-dollars, as an exact `Decimal`. Non-cached input
is input - cached - cache-write (never below 0) and non-reasoning output is output - reasoning:
providers count cached and reasoning tokens within input and output. Cached and cache-write
tokens fall back to the input price, reasoning tokens to the output price, when unset.

Lookup for (provider, model) at time T, among the rows with effective_from ≤ T: the exact model,
else the longest entry E such that the model starts with E + "-" (a family prices its dated
versions), else "*"; within that entry the latest effective_from wins (then the higher version).
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Context, Decimal

from integration_api.store.usage_prices import PriceAmounts, StoredPrice
from integration_api.usage.ports import FREE, UNPRICED, Cost
from integration_api.usage.record import UsageRecord

ANY_MODEL = "*"
MILLION = Decimal(1_000_000)
# Per-minute prices over fractional seconds divide by 60: computed with ample digits, then kept
# to the ledger's column scale (10^-6 micro-dollars, 10^-12 dollars). Token, character and search
# unit costs are exact at that scale already (amounts have at most 10 fractional digits).
_DIGITS = Context(prec=60)
COST_SCALE = Decimal("0.000001")
_SECONDS_PER_MINUTE = Decimal(60)


@dataclass(frozen=True, slots=True)
class ShippedPrice:
    """A default price a provider's folder ships: the figures its provider published, the day
    they were read and where (`note`)."""

    provider: str
    model: str
    amounts: PriceAmounts
    taken: date
    note: str

    @property
    def effective_from(self) -> datetime:
        """In force from the day the figures were taken (a default prices the past it finds)."""
        return datetime(self.taken.year, self.taken.month, self.taken.day, tzinfo=UTC)


def _count(value: int | None) -> Decimal:
    return Decimal(value) if value else Decimal(0)


def _seconds(value: float | None) -> Decimal:
    # repr: the shortest decimal that reads back as the same float (what was reported).
    return Decimal(repr(value)) if value else Decimal(0)


def _times(quantity: Decimal, amount: Decimal | None) -> Decimal:
    if amount is None or not quantity:
        return Decimal(0)
    return _DIGITS.multiply(quantity, amount)


def cost_micros(record: UsageRecord, amounts: PriceAmounts) -> Decimal:
    """Micro-dollars: a count per million * USD per million is micro-dollars as it stands."""
    cached = _count(record.cached_input_tokens)
    cache_write = _count(record.cache_write_input_tokens)
    plain_input = max(Decimal(0), _count(record.input_tokens) - cached - cache_write)
    reasoning = _count(record.reasoning_tokens)
    plain_output = max(Decimal(0), _count(record.output_tokens) - reasoning)
    input_price = amounts.usd_per_million_input_tokens
    output_price = amounts.usd_per_million_output_tokens
    parts = (
        _times(plain_input, input_price),
        _times(cached, _or(amounts.usd_per_million_cached_input_tokens, input_price)),
        _times(cache_write, _or(amounts.usd_per_million_cache_write_input_tokens, input_price)),
        _times(plain_output, output_price),
        _times(reasoning, _or(amounts.usd_per_million_reasoning_tokens, output_price)),
        _per_minute(_seconds(record.audio_seconds_in), amounts.usd_per_audio_minute_in),
        _per_minute(_seconds(record.audio_seconds_out), amounts.usd_per_audio_minute_out),
        _times(_count(record.characters), amounts.usd_per_million_characters),
        # Per thousand units: * 10^6 / 10^3.
        _times(_count(record.search_units) * 1000, amounts.usd_per_thousand_search_units),
    )
    total = functools.reduce(_DIGITS.add, parts, Decimal(0))
    return total.quantize(COST_SCALE, context=_DIGITS)


def _per_minute(seconds: Decimal, amount: Decimal | None) -> Decimal:
    """Micro-dollars for `seconds` at USD per minute: seconds * amount * 10^6 / 60."""
    return _DIGITS.divide(_DIGITS.multiply(_times(seconds, amount), MILLION), _SECONDS_PER_MINUTE)


def _or(amount: Decimal | None, fallback: Decimal | None) -> Decimal | None:
    return amount if amount is not None else fallback


def _families(model: str) -> Iterable[str]:
    """Every entry that prices `model` as a family, longest first ("a-b-c" → "a-b", "a")."""
    end = model.rfind("-")
    while end > 0:
        yield model[:end]
        end = model.rfind("-", 0, end)


class PriceTable:
    """Every version of every price, indexed for lookup from memory (immutable once built)."""

    def __init__(self, rows: Iterable[StoredPrice]) -> None:
        entries: dict[tuple[str, str], list[StoredPrice]] = {}
        for row in rows:
            entries.setdefault((row.provider, row.model), []).append(row)
        for versions in entries.values():
            versions.sort(key=lambda row: (row.effective_from, row.version))
        self._entries = entries
        self._starts = {
            key: [row.effective_from.timestamp() for row in versions]
            for key, versions in entries.items()
        }

    def __len__(self) -> int:
        return sum(len(versions) for versions in self._entries.values())

    def _in_force(self, provider: str, entry: str, at: float) -> StoredPrice | None:
        key = (provider, entry)
        starts = self._starts.get(key)
        if not starts:
            return None
        position = bisect.bisect_right(starts, at)
        return self._entries[key][position - 1] if position else None

    def price_for(self, provider: str, model: str, at: float) -> StoredPrice | None:
        """The price in force at `at` (seconds since the epoch) for the provider's model."""
        for entry in (model, *_families(model), ANY_MODEL):
            if not entry:
                continue
            found = self._in_force(provider, entry, at)
            if found is not None:
                return found
        return None

    def cost(self, record: UsageRecord) -> Cost:
        # A synthesis is priced by its voice's model when it names one, else by the voice
        # itself (providers whose voices are the billed unit).
        model = record.model or record.voice
        price = self.price_for(record.provider, model, record.started_at)
        if price is None:
            return UNPRICED if record.billable else FREE
        return Cost(
            micros=cost_micros(record, price.amounts),
            price_id=price.id,
            price_version=price.version,
        )
