"""The routes tell a skipped target from a failure by the reasons the gate's refusals carry."""

from __future__ import annotations

from integration_api.credentials import call_gate
from integration_api.errors import (
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
)
from integration_api.routes import model


def test_the_routes_and_the_gate_name_the_refusals_alike() -> None:
    assert model.CREDENTIAL_RATE_LIMITED == call_gate.CREDENTIAL_RATE_LIMITED
    assert model.CIRCUIT_OPEN == call_gate.CIRCUIT_OPEN


def test_only_a_provider_that_failed_to_answer_counts_against_the_breaker() -> None:
    assert call_gate.verdict_of(None) == "success"
    assert call_gate.verdict_of(Unavailable("down", provider="openai")) == "failure"
    assert call_gate.verdict_of(Unavailable("ours, not the provider's")) == "neutral"
    assert call_gate.verdict_of(call_gate.circuit_open(1.0)) == "neutral"
    assert call_gate.verdict_of(InvalidArgument("bad", provider="openai")) == "neutral"
    assert call_gate.verdict_of(FailedPrecondition("key", provider="openai")) == "neutral"
    assert call_gate.verdict_of(ResourceExhausted("429", provider="openai")) == "neutral"
    assert call_gate.verdict_of(TimeoutError()) == "neutral"
