"""SetPrice and ListPrices: operators version the price table, anyone reads it.

A new price is a new version of its provider and model, in force from `effective_from` on (at
least 1 s ahead, by default the first whole second that is): records already written keep the
cost they were written with, and every replica prices with it from its first instant (each
checks its table is current before pricing a batch; the lead covers the commit becoming
visible and clock skew up to 1 s between the service and the database).
Each change is audited (`price.set`) with the figures it replaces and the new ones.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import structlog

from integration_api.call_context import current_request_id
from integration_api.database import Database
from integration_api.errors import FieldViolation, InvalidArgument
from integration_api.ops.access import require_operator
from integration_api.principal import Principal
from integration_api.providers.registry import PROVIDERS
from integration_api.request_caps import MAX_MODEL_CHARACTERS
from integration_api.store.models import AuditEvent, JsonValue
from integration_api.store.usage_prices import (
    AMOUNT_FIELDS,
    MIN_LEAD,
    OPERATOR_SOURCE,
    NewPrice,
    PriceAmounts,
    PriceRepository,
    StoredPrice,
    default_effective_from,
)

log = structlog.get_logger("integration_api.ops.prices")

SET_PRICE_ACTION = "price.set"
MAX_NOTE_CHARACTERS = 500
# Plain decimals only ("2.50", "0", "15"): no sign, exponent, NaN or infinity; the column holds
# ten fractional digits and ten whole ones.
_AMOUNT = re.compile(r"(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,10})?")
AMOUNT_RULE = "a decimal number of US dollars ≥ 0, below 10^10, with at most 10 fractional digits"

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class PriceDraft:
    """A price as a caller asks for it: amounts as decimal strings ('' when not billed)."""

    provider: str
    model: str
    amounts: Mapping[str, str]
    effective_from: datetime | None
    note: str = ""


def parse_amounts(
    amounts: Mapping[str, str], prefix: str
) -> tuple[PriceAmounts, list[FieldViolation]]:
    parsed: dict[str, Decimal | None] = {}
    violations: list[FieldViolation] = []
    for name in AMOUNT_FIELDS:
        text = amounts.get(name, "")
        if not text:
            parsed[name] = None
        elif _AMOUNT.fullmatch(text):
            parsed[name] = Decimal(text)
        else:
            violations.append(FieldViolation(f"{prefix}{name}", f"must be {AMOUNT_RULE}"))
    return PriceAmounts(**parsed), violations


def amount_text(amount: Decimal) -> str:
    """An amount as an operator writes it ("2.5", "10"): the column's trailing zeros dropped,
    never in exponent form."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def amounts_json(amounts: PriceAmounts) -> dict[str, JsonValue]:
    """The figures as the audit trail keeps them: decimal strings, None when not billed."""
    values: dict[str, JsonValue] = {}
    for name in AMOUNT_FIELDS:
        amount = getattr(amounts, name)
        values[name] = None if amount is None else amount_text(amount)
    return values


def _audit_event(principal: Principal) -> Callable[[StoredPrice | None, StoredPrice], AuditEvent]:
    def event(previous: StoredPrice | None, stored: StoredPrice) -> AuditEvent:
        return AuditEvent(
            actor=principal.actor,
            tenant=principal.tenant,
            action=SET_PRICE_ACTION,
            target_type="price",
            target_id=f"{stored.provider}/{stored.model}",
            request_id=current_request_id(),
            details={
                "provider": stored.provider,
                "model": stored.model,
                "version": stored.version,
                "effective_from": stored.effective_from.isoformat(),
                "old": amounts_json(previous.amounts) if previous is not None else None,
                "old_version": previous.version if previous is not None else None,
                "new": amounts_json(stored.amounts),
                "note": stored.note,
            },
        )

    return event


class PriceOperations:
    def __init__(
        self,
        database: Database,
        on_change: Callable[[], Awaitable[None]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._database = database
        self._on_change = on_change
        self._clock = clock or (lambda: datetime.now(UTC))

    def _new_price(self, principal: Principal, draft: PriceDraft) -> NewPrice:
        violations: list[FieldViolation] = []
        if not draft.provider:
            violations.append(FieldViolation("price.provider", "is required"))
        elif draft.provider not in PROVIDERS:
            known = ", ".join(sorted(PROVIDERS))
            violations.append(FieldViolation("price.provider", f"unknown provider; known: {known}"))
        if not draft.model.strip():
            violations.append(
                FieldViolation("price.model", 'is required (a model, a family or "*")')
            )
        elif draft.model != draft.model.strip() or len(draft.model) > MAX_MODEL_CHARACTERS:
            violations.append(
                FieldViolation(
                    "price.model",
                    f"at most {MAX_MODEL_CHARACTERS} characters, without surrounding spaces",
                )
            )
        amounts, amount_violations = parse_amounts(draft.amounts, "price.")
        violations.extend(amount_violations)
        if len(draft.note) > MAX_NOTE_CHARACTERS:
            violations.append(
                FieldViolation("price.note", f"must be at most {MAX_NOTE_CHARACTERS} characters")
            )
        now = self._clock()
        effective_from = draft.effective_from
        if effective_from is None:
            effective_from = default_effective_from(now)
        elif effective_from.astimezone(UTC) < now + MIN_LEAD:
            lead = int(MIN_LEAD.total_seconds())
            violations.append(
                FieldViolation(
                    "price.effective_from",
                    f"must be at least {lead} s from now (the past is never repriced); "
                    "leave it unset for the first whole second that is",
                )
            )
        if violations:
            summary = "; ".join(f"{item.field}: {item.description}" for item in violations)
            raise InvalidArgument(f"invalid price: {summary}", violations)
        return NewPrice(
            provider=draft.provider,
            model=draft.model,
            amounts=amounts,
            effective_from=effective_from.astimezone(UTC),
            source=OPERATOR_SOURCE,
            set_by=principal.actor,
            note=draft.note,
        )

    async def set(self, principal: Principal, draft: PriceDraft) -> StoredPrice:
        require_operator(principal, "setting a price")
        price = self._new_price(principal, draft)
        repository = PriceRepository(self._database.pool)
        _previous, stored = await repository.add(price, _audit_event(principal))
        if self._on_change is not None:
            # This process prices with it at once; the others within their next reload (as
            # this one does, should this reload fail: the price is written either way).
            try:
                await self._on_change()
            except Exception as error:  # noqa: BLE001 - the periodic reload catches up
                log.warning(
                    "reloading prices after a change failed", error_type=type(error).__name__
                )
        return stored

    async def list(
        self, principal: Principal, provider: str, model: str, *, include_history: bool
    ) -> list[StoredPrice]:
        """Any caller: prices are the same for every tenant."""
        del principal
        return await PriceRepository(self._database.pool).listing(
            provider, model, include_history=include_history, now=self._clock()
        )
