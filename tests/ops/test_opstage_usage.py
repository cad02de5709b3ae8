"""The Opstage report's usage and budgets: this month's use and cost per provider service, the
budgets' states on the service itself, read at most once per period."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from integration_api_proto.integration.v1 import Budget, BudgetUnit, SetBudgetRequest

from integration_api.ops.opstage.report import ServiceReport
from integration_api.ops.opstage.usage_report import UsageReport
from tests.ops.support import Caller


def _configs(services: list[dict[str, Any]], code: str) -> dict[str, str]:
    service = next(s for s in services if s["code"] == code)
    return {item["key"]: item["valuePreview"] for item in service["configs"]}


async def _use(caller: Caller, organization: str, credential_id: str) -> None:
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    await caller.service.app.runtime.database.pool.execute(
        """
        INSERT INTO usage_hourly (hour, organization_id, project_id, credential_id, route_id,
            provider, model, operation, calls, input_tokens, output_tokens, audio_seconds_in,
            audio_seconds_out, characters, cost_micros)
        VALUES ($1, $2, 'p1', $3, '', 'openai', 'gpt-4o-mini', 'chat', 7, 1000, 500, 30.4, 12.2,
            250, 1234567.5)
        """,
        hour,
        organization,
        credential_id,
    )


async def test_provider_services_show_the_months_usage_and_the_service_its_budgets(
    caller: Caller,
) -> None:
    organization = "org-" + secrets.token_hex(3)
    credential, _ = await caller.stored(organization)
    runtime = caller.service.app.runtime
    clock = [0.0]
    usage = UsageReport(runtime.database, every=300, clock=lambda: clock[0])
    report = ServiceReport(runtime.database, runtime.keyring, 300, usage=usage)

    before = await report.services()
    await _use(caller, organization, credential.id)
    await caller.operations.set_budget(
        SetBudgetRequest(
            budget=Budget(
                organization_id=organization,
                project_id="p1",
                unit=BudgetUnit.TOKENS,
                soft_limit=1000,
                hard_limit=2000,
            )
        ),
        metadata=caller.operator(),
    )
    assert await report.services() == before, "figures are read at most once per period"

    clock[0] = 300
    after = await report.services()
    old, new = _configs(before, "provider-openai"), _configs(after, "provider-openai")
    assert new["USAGE_MONTH"] == datetime.now(UTC).strftime("%Y-%m")
    assert int(new["USAGE_CALLS"]) - int(old["USAGE_CALLS"]) == 7
    assert int(new["USAGE_TOKENS"]) - int(old["USAGE_TOKENS"]) == 1500
    assert int(new["USAGE_CHARACTERS"]) - int(old["USAGE_CHARACTERS"]) == 250
    assert abs(int(new["USAGE_AUDIO_SECONDS"]) - int(old["USAGE_AUDIO_SECONDS"]) - 43) <= 1
    # Dollars to the cent: 1,234,567.5 micro-dollars are $1.23.
    # Both totals are rounded to the cent, so their difference may be a cent off what was added
    # (other tests of the package spend on the same provider this month).
    cost = round(float(new["USAGE_COST_USD"]) - float(old["USAGE_COST_USD"]), 2)
    assert abs(cost - 1.23) <= 0.011
    assert new["USAGE_COST_USD"].count(".") == 1 and len(new["USAGE_COST_USD"].split(".")[1]) == 2

    old, new = _configs(before, "integration-api"), _configs(after, "integration-api")
    soft = int(new["BUDGETS_SOFT_EXCEEDED"]) - int(old["BUDGETS_SOFT_EXCEEDED"])
    assert soft == 1, "1,500 tokens are past the soft limit of 1,000"
    assert {"BUDGETS_WITHIN", "BUDGETS_HARD_EXCEEDED"} <= new.keys()
