"""Caller-chosen label values (model names) never grow the series without end, and one tenant
cannot push another tenant's models into "other"."""

from __future__ import annotations

from prometheus_client import REGISTRY

from integration_api.llm import metrics
from integration_api.observability.bounded_labels import OTHER, BoundedLabel
from integration_api.principal import Tenant

QUIET = Tenant("org-quiet", "project-quiet")
FLOOD = Tenant("org-flood", "project-flood")
REQUESTS = "integration_api_provider_requests_total"


def _record(tenant: Tenant, provider: str, model: str) -> None:
    metrics.record_call(
        metrics.CallRecord(provider, model, "chat", "ok", 0.01, 0.001, tenant=tenant)
    )


def _series(provider: str) -> list[dict[str, str]]:
    return [
        sample.labels
        for family in REGISTRY.collect()
        if family.name == REQUESTS.removesuffix("_total")
        for sample in family.samples
        if sample.name == REQUESTS and sample.labels.get("provider") == provider
    ]


def test_one_tenant_flooding_model_names_leaves_another_tenants_models_named() -> None:
    provider = "flood-check"  # a scope of its own in the process-wide bounds
    bounds = metrics.MODEL_LABELS
    _record(QUIET, provider, "gpt-4o")
    for index in range(10_000):
        _record(FLOOD, provider, f"made-up-{index}")
    _record(QUIET, provider, "gpt-4o")
    _record(QUIET, provider, "gpt-4o-mini")  # new after the flood: the tenant's own quota

    labels = {"provider": provider, "operation": "chat", "outcome": "ok"}
    assert REGISTRY.get_sample_value(REQUESTS, {**labels, "model": "gpt-4o"}) == 2
    assert REGISTRY.get_sample_value(REQUESTS, {**labels, "model": "gpt-4o-mini"}) == 1
    flooded = REGISTRY.get_sample_value(REQUESTS, {**labels, "model": OTHER})
    assert flooded == 10_000 - bounds.per_tenant
    series = _series(provider)
    assert len(series) == 2 + bounds.per_tenant + 1  # the quiet tenant's, the flood's, other
    assert len(series) <= bounds.max_values + 1


def test_a_value_one_tenant_introduced_is_named_for_every_tenant_without_spending_quota() -> None:
    bounds = BoundedLabel(per_tenant=2, max_values=10)
    assert bounds.value(QUIET, "openai", "gpt-4o") == "gpt-4o"
    for index in range(5):
        bounds.value(FLOOD, "openai", f"flood-{index}")
    assert bounds.value(FLOOD, "openai", "gpt-4o") == "gpt-4o"
    assert bounds.value(FLOOD, "openai", "flood-0") == "flood-0"
    assert bounds.value(FLOOD, "openai", "flood-4") == OTHER
    assert bounds.value(QUIET, "openai", "gpt-4o-mini") == "gpt-4o-mini"
    assert bounds.value(QUIET, "anthropic", "claude") == "claude", "quotas are per scope"


def test_many_tenants_fill_the_ceiling_and_nothing_admitted_is_withdrawn() -> None:
    bounds = BoundedLabel(per_tenant=4, max_values=32)
    for tenant_index in range(1_000):
        tenant = Tenant(f"org-{tenant_index}", "p")
        for value_index in range(4):
            bounds.value(tenant, "openai", f"model-{tenant_index}-{value_index}")
    admitted = bounds.admitted("openai")
    assert len(admitted) == 32
    assert all(bounds.value(Tenant("late", "p"), "openai", value) == value for value in admitted)
    assert bounds.value(Tenant("late", "p"), "openai", "brand-new") == OTHER
