"""The meter a pipeline fills in: one record per call whatever ends it, none for a call never
sent, and a route's attribution that is read at the call's start and never outlives its
attempt."""

from __future__ import annotations

import pytest

from integration_api.principal import Tenant
from integration_api.routes.usage import attempt_of
from integration_api.usage.meter import CANCELLED, UsageMeter
from integration_api.usage.ports import NO_LEDGER
from integration_api.usage.record import CHAT, ROUTE_ATTEMPT, RouteAttribution
from tests.support.usage import CapturingLedger

TENANT = Tenant("org-meter", "project-meter")


def sent_meter(ledger: CapturingLedger) -> UsageMeter:
    meter = UsageMeter(ledger, TENANT, CHAT)
    meter.through("openai", "credential-1")
    meter.sent = True
    return meter


def test_a_call_ended_twice_is_recorded_once() -> None:
    ledger = CapturingLedger()
    meter = sent_meter(ledger)
    meter.end()
    meter.end()
    assert len(ledger.records) == 1


def test_a_call_never_sent_to_a_provider_leaves_no_record() -> None:
    ledger = CapturingLedger()
    meter = UsageMeter(ledger, TENANT, CHAT)
    meter.through("openai", "credential-1")
    meter.fail("resource_exhausted")
    meter.end()
    assert ledger.records == []


def test_a_caller_leaving_after_the_answer_does_not_cancel_it() -> None:
    ledger = CapturingLedger()
    meter = sent_meter(ledger)
    meter.completed = True
    meter.fail(CANCELLED)
    meter.end()
    assert ledger.records[0].outcome == "ok"


def test_a_failure_after_the_answer_is_still_a_failure() -> None:
    ledger = CapturingLedger()
    meter = sent_meter(ledger)
    meter.completed = True
    meter.fail("internal")
    meter.end()
    assert ledger.records[0].outcome == "internal"


def test_input_tokens_of_several_requests_add_up_and_none_stays_unreported() -> None:
    meter = sent_meter(CapturingLedger())
    meter.add_input_tokens(None)
    assert meter.input_tokens is None
    meter.add_input_tokens(3)
    meter.add_input_tokens(None)
    meter.add_input_tokens(4)
    assert meter.input_tokens == 7


def test_without_a_ledger_nothing_is_built() -> None:
    meter = UsageMeter(NO_LEDGER, TENANT, CHAT)
    meter.sent = True
    meter.end()  # no record to build, nowhere to put it


def test_the_attempt_is_read_when_the_call_starts_and_reset_after_it() -> None:
    ledger = CapturingLedger()
    with attempt_of("route-1", 2):
        meter = sent_meter(ledger)
    assert ROUTE_ATTEMPT.get() is None
    meter.end()
    assert ledger.records[0].route == RouteAttribution("route-1", 2)


def test_an_attempt_that_fails_leaves_no_attribution_behind() -> None:
    with pytest.raises(RuntimeError), attempt_of("route-1", 0):
        raise RuntimeError("the attempt failed")
    assert ROUTE_ATTEMPT.get() is None
    assert UsageMeter(CapturingLedger(), TENANT, CHAT).route is None
