from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from integration_api.errors import InvalidArgument
from integration_api.principal import Tenant
from integration_api.store.credentials import CredentialRepository
from integration_api.store.database import ConnectionPool
from integration_api.store.models import CredentialRow
from integration_api.store.pagination import DEFAULT_PAGE_SIZE
from tests.store.factories import PAGE_TOKENS, audit_event, new_credential


async def create_many(
    repository: CredentialRepository, tenant: Tenant, count: int, **overrides: Any
) -> list[CredentialRow]:
    rows = []
    for _ in range(count):
        credential = new_credential(tenant, **overrides)
        event = audit_event(tenant, "credential.create", credential.id)
        rows.append(await repository.insert(credential, event))
    return rows


async def all_pages(
    repository: CredentialRepository,
    tenant: Tenant,
    page_size: int,
    provider: str | None = None,
    status: str | None = None,
) -> list[list[CredentialRow]]:
    pages: list[list[CredentialRow]] = []
    token: str | None = None
    while True:
        rows, token = await repository.list(
            tenant,
            provider=provider,
            status=status,
            page_size=page_size,
            page_token=token,
            tokens=PAGE_TOKENS,
        )
        pages.append(rows)
        if not token:
            return pages


async def test_pages_return_every_row_once_in_creation_order(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    created = await create_many(repository, tenant, 12)
    pages = await all_pages(repository, tenant, page_size=5)
    assert [len(page) for page in pages] == [5, 5, 2]
    assert [row.id for page in pages for row in page] == [row.id for row in created]


async def test_the_last_full_page_ends_with_an_empty_token(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    await create_many(repository, tenant, 4)
    pages = await all_pages(repository, tenant, page_size=2)
    assert [len(page) for page in pages] == [2, 2]


async def test_rows_created_at_the_same_instant_are_ordered_by_id(
    repository: CredentialRepository, tenant: Tenant, store_pool: ConnectionPool
) -> None:
    created = await create_many(repository, tenant, 7)
    # Rows written in one transaction share created_at; make that happen to all of them.
    await store_pool.execute(
        "UPDATE credentials SET created_at = $3 WHERE organization_id = $1 AND project_id = $2",
        tenant.organization_id,
        tenant.project_id,
        datetime(2026, 3, 1, tzinfo=UTC),
    )
    pages = await all_pages(repository, tenant, page_size=3)
    listed = [row.id for page in pages for row in page]
    assert listed == sorted(row.id for row in created)


async def test_rows_added_while_paging_are_neither_skipped_nor_repeated(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    created = await create_many(repository, tenant, 4)
    first_page, token = await repository.list(tenant, page_size=2, tokens=PAGE_TOKENS)
    added = await create_many(repository, tenant, 1)
    rest = await repository.list(tenant, page_size=10, page_token=token, tokens=PAGE_TOKENS)
    listed = [row.id for row in first_page + rest[0]]
    assert listed == [row.id for row in created + added]


async def test_list_filters_by_provider_and_status(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    openai_active = await create_many(repository, tenant, 3, provider="openai")
    anthropic_active = await create_many(repository, tenant, 2, provider="anthropic")
    anthropic_disabled = await create_many(
        repository, tenant, 3, provider="anthropic", status="disabled"
    )

    def ids(pages: list[list[CredentialRow]]) -> list[str]:
        return [row.id for page in pages for row in page]

    assert ids(await all_pages(repository, tenant, 2, provider="openai")) == [
        row.id for row in openai_active
    ]
    assert ids(await all_pages(repository, tenant, 2, provider="anthropic")) == [
        row.id for row in anthropic_active + anthropic_disabled
    ]
    assert ids(await all_pages(repository, tenant, 2, status="disabled")) == [
        row.id for row in anthropic_disabled
    ]
    assert ids(await all_pages(repository, tenant, 1, provider="anthropic", status="active")) == [
        row.id for row in anthropic_active
    ]
    assert ids(await all_pages(repository, tenant, 2, provider="gemini")) == []


async def test_page_size_zero_means_the_default_and_negative_is_invalid(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    await create_many(repository, tenant, 2)
    rows, token = await repository.list(tenant, page_size=0, tokens=PAGE_TOKENS)
    assert (len(rows), token) == (2, "")
    assert DEFAULT_PAGE_SIZE > 2
    with pytest.raises(InvalidArgument) as raised:
        await repository.list(tenant, page_size=-1, tokens=PAGE_TOKENS)
    assert raised.value.violations[0].field == "page_size"


def tampered_variants(token: str) -> list[str]:
    """The token cut, extended, and with one character changed in each of its three parts."""
    variants = ["garbage", "A", token[:-3], token + "AAAA"]
    parts = token.split(".")
    for index, part in enumerate(parts):
        middle = len(part) // 2
        swapped = "B" if part[middle] == "A" else "A"
        changed = part[:middle] + swapped + part[middle + 1 :]
        variants.append(".".join([*parts[:index], changed, *parts[index + 1 :]]))
    return variants


async def test_a_tampered_page_token_is_invalid_argument_on_page_token(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    await create_many(repository, tenant, 3)
    _, token = await repository.list(tenant, page_size=1, tokens=PAGE_TOKENS)
    for tampered in tampered_variants(token):
        with pytest.raises(InvalidArgument) as raised:
            await repository.list(tenant, page_size=1, page_token=tampered, tokens=PAGE_TOKENS)
        assert raised.value.violations[0].field == "page_token"


async def test_a_page_token_does_not_carry_over_to_other_filters_or_tenants(
    repository: CredentialRepository, tenant: Tenant, other_tenant: Tenant
) -> None:
    await create_many(repository, tenant, 3)
    _, token = await repository.list(tenant, page_size=1, tokens=PAGE_TOKENS)
    for attempt in (
        repository.list(
            tenant, provider="openai", page_size=1, page_token=token, tokens=PAGE_TOKENS
        ),
        repository.list(tenant, status="active", page_size=1, page_token=token, tokens=PAGE_TOKENS),
        repository.list(other_tenant, page_size=1, page_token=token, tokens=PAGE_TOKENS),
    ):
        with pytest.raises(InvalidArgument) as raised:
            await attempt
        assert raised.value.violations[0].field == "page_token"


async def test_an_unknown_status_filter_is_invalid_argument(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    with pytest.raises(InvalidArgument) as raised:
        await repository.list(tenant, status="revoked", tokens=PAGE_TOKENS)
    assert raised.value.violations[0].field == "status"
