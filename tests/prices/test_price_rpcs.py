"""SetPrice and ListPrices through the real gRPC service: who may, what is audited, what is
refused (and on which field), which versions are listed."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import grpc
import pytest
from integration_api_proto.integration.v1 import ListPricesRequest, Price, SetPriceRequest
from integration_api_proto.integration.v1.grpc_aio import OperationsServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.principal import Tenant
from integration_api.store.models import AuditEvent
from integration_api.store.usage_prices import NewPrice, PriceAmounts, PriceRepository
from tests.credentials.helpers import error_info, field_violations
from tests.support.service import RunningService

Metadata = tuple[tuple[str, str], ...]
PROVIDER = "openai"


def tenant(service: RunningService) -> Metadata:
    token = mint_token(
        service.settings.secret, organization_id="org-a", project_id="p1", user_id="alice"
    )
    return (("authorization", f"Bearer {token}"),)


def new_model() -> str:
    return "model-" + secrets.token_hex(4)


def price(model: str, /, **fields: object) -> Price:
    values: dict[str, object] = {
        "provider": PROVIDER,
        "model": model,
        "usd_per_million_input_tokens": "2.50",
        "usd_per_million_output_tokens": "10",
        **fields,
    }
    return Price(**values)  # type: ignore[arg-type]


async def test_an_operator_sets_a_price_from_the_next_whole_second_and_a_tenant_lists_it(
    prices_service: RunningService, operations: OperationsServiceStub
) -> None:
    model = new_model()
    before = datetime.now(UTC)
    answer = await operations.set_price(
        SetPriceRequest(price=price(model, note="contract 2026")),
        metadata=prices_service.operator_auth(),
    )
    stored = answer.price
    assert stored is not None and stored.effective_from is not None
    assert stored.effective_from >= before + timedelta(seconds=1)
    # Now + 1 s rounded up to a whole second (plus the call's own time).
    assert stored.effective_from < before + timedelta(seconds=3)
    assert stored.effective_from.microsecond == 0
    assert (stored.version, stored.source, stored.set_by) == (1, "operator", "subject:olga")
    # Amounts come back as an operator writes them; an unset one stays empty.
    assert stored.usd_per_million_input_tokens == "2.5"
    assert stored.usd_per_million_output_tokens == "10"
    assert stored.usd_per_million_cached_input_tokens == ""
    listed = await operations.list_prices(
        ListPricesRequest(provider=PROVIDER, model=model), metadata=tenant(prices_service)
    )
    assert [(item.model, item.version, item.note) for item in listed.prices] == [
        (model, 1, "contract 2026")
    ]


async def test_a_tenant_caller_cannot_set_a_price(
    prices_service: RunningService, operations: OperationsServiceStub
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await operations.set_price(
            SetPriceRequest(price=price(new_model())), metadata=tenant(prices_service)
        )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(raised.value).reason == "OPERATOR_ROLE_REQUIRED"


async def test_each_change_is_audited_with_the_figures_it_replaces_and_the_new_ones(
    prices_service: RunningService, operations: OperationsServiceStub
) -> None:
    model = new_model()
    for figure in ("1", "1.25"):
        await operations.set_price(
            SetPriceRequest(price=price(model, usd_per_million_input_tokens=figure)),
            metadata=prices_service.operator_auth(),
        )
    pool = prices_service.app.runtime.database.pool
    rows = await pool.fetch(
        "SELECT actor, organization_id, target_type, details FROM audit_events"
        " WHERE action = 'price.set' AND target_id = $1 ORDER BY id",
        f"{PROVIDER}/{model}",
    )
    assert [(row["actor"], row["organization_id"], row["target_type"]) for row in rows] == [
        ("subject:olga", "ops", "price")
    ] * 2
    first, second = (dict(row["details"]) for row in rows)
    assert first["old"] is None and first["version"] == 1
    assert first["new"]["usd_per_million_input_tokens"] == "1"
    assert second["old"] == first["new"] and second["version"] == 2
    assert second["new"]["usd_per_million_input_tokens"] == "1.25"
    assert second["new"]["usd_per_million_cached_input_tokens"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"usd_per_million_input_tokens": "-1"}, "price.usd_per_million_input_tokens"),
        ({"usd_per_million_output_tokens": "1e3"}, "price.usd_per_million_output_tokens"),
        ({"usd_per_audio_minute_in": "NaN"}, "price.usd_per_audio_minute_in"),
        ({"usd_per_million_characters": "0.12345678901"}, "price.usd_per_million_characters"),
        ({"usd_per_thousand_search_units": "10000000000"}, "price.usd_per_thousand_search_units"),
        ({"usd_per_million_reasoning_tokens": " 1"}, "price.usd_per_million_reasoning_tokens"),
        ({"provider": "no-such-provider"}, "price.provider"),
        ({"provider": ""}, "price.provider"),
        ({"model": ""}, "price.model"),
        ({"effective_from": datetime(2020, 1, 1, tzinfo=UTC)}, "price.effective_from"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    prices_service: RunningService,
    operations: OperationsServiceStub,
    change: dict[str, object],
    field: str,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await operations.set_price(
            SetPriceRequest(price=price(new_model(), **change)),
            metadata=prices_service.operator_auth(),
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(field_violations(raised.value)) == [field]


async def test_a_price_under_a_second_away_is_refused_and_one_further_is_taken_as_asked(
    prices_service: RunningService, operations: OperationsServiceStub
) -> None:
    soon = datetime.now(UTC) + timedelta(milliseconds=500)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await operations.set_price(
            SetPriceRequest(price=price(new_model(), effective_from=soon)),
            metadata=prices_service.operator_auth(),
        )
    assert list(field_violations(raised.value)) == ["price.effective_from"]
    later = datetime.now(UTC) + timedelta(seconds=3)
    answer = await operations.set_price(
        SetPriceRequest(price=price(new_model(), effective_from=later)),
        metadata=prices_service.operator_auth(),
    )
    assert answer.price is not None and answer.price.effective_from == later


async def test_every_wrong_field_is_named_at_once(
    prices_service: RunningService, operations: OperationsServiceStub
) -> None:
    bad = price("", provider="nope", usd_per_million_input_tokens="x")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await operations.set_price(
            SetPriceRequest(price=bad), metadata=prices_service.operator_auth()
        )
    assert set(field_violations(raised.value)) == {
        "price.provider",
        "price.model",
        "price.usd_per_million_input_tokens",
    }


async def test_listing_shows_the_price_in_force_and_those_scheduled_or_every_version(
    prices_service: RunningService, operations: OperationsServiceStub
) -> None:
    model = new_model()
    repository = PriceRepository(prices_service.app.runtime.database.pool)
    for month, figure in ((1, "1"), (2, "2")):
        # Past versions, as the table holds them once their time has come.
        await repository.add(
            NewPrice(
                provider=PROVIDER,
                model=model,
                amounts=PriceAmounts(usd_per_million_input_tokens=Decimal(figure)),
                effective_from=datetime(2026, month, 1, tzinfo=UTC),
                source="operator",
                set_by="subject:olga",
            ),
            lambda _previous, stored: AuditEvent(
                actor="subject:olga",
                tenant=Tenant("ops", "ops"),
                action="price.set",
                target_type="price",
                target_id=f"{stored.provider}/{stored.model}",
            ),
        )
    await operations.set_price(
        SetPriceRequest(price=price(model, usd_per_million_input_tokens="3")),
        metadata=prices_service.operator_auth(),
    )
    current = await operations.list_prices(
        ListPricesRequest(provider=PROVIDER, model=model), metadata=tenant(prices_service)
    )
    history = await operations.list_prices(
        ListPricesRequest(provider=PROVIDER, model=model, include_history=True),
        metadata=tenant(prices_service),
    )
    assert [item.version for item in current.prices] == [2, 3]
    assert [item.version for item in history.prices] == [1, 2, 3]
    assert [item.usd_per_million_input_tokens for item in history.prices] == ["1", "2", "3"]


async def test_the_process_that_set_a_price_holds_it_at_once(
    prices_service: RunningService, operations: OperationsServiceStub
) -> None:
    model = new_model()
    answer = await operations.set_price(
        SetPriceRequest(price=price(model)), metadata=prices_service.operator_auth()
    )
    assert answer.price is not None and answer.price.effective_from is not None
    table = prices_service.app.runtime.prices.table
    found = table.price_for(PROVIDER, model, answer.price.effective_from.timestamp())
    assert found is not None and found.version == 1
    # Not before its time: a call starting now still finds no price for this model.
    assert table.price_for(PROVIDER, model, datetime.now(UTC).timestamp()) is None


async def test_shipped_defaults_are_listed_with_their_source_and_date(
    prices_service: RunningService, operations: OperationsServiceStub
) -> None:
    listed = await operations.list_prices(
        ListPricesRequest(provider="anthropic", model="claude-opus-4-5"),
        metadata=tenant(prices_service),
    )
    (default,) = listed.prices
    assert (default.source, default.set_by, default.version) == ("default", "service:defaults", 1)
    assert "platform.claude.com" in default.note and "2026-12-06" in default.note
    assert default.usd_per_million_cache_write_input_tokens == "6.25"
