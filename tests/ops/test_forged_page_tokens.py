"""A page token nobody was given is refused on `page_token`, whatever position it names."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    GetInventoryRequest,
    ListAuditEventsRequest,
    ListCredentialsRequest,
)

from integration_api.principal import Tenant
from integration_api.store.audit_queries import AuditQuery
from integration_api.store.pagination import query_scope
from tests.credentials.helpers import field_violations
from tests.ops.support import Caller


def _checksummed(position: list[object], scope: str) -> str:
    """A token as anyone could build it when tokens carried only an unkeyed checksum."""
    payload = json.dumps({"p": position, "s": scope}, separators=(",", ":")).encode()
    checksum = hashlib.sha256(b"integration-api/page-token/v1\x00" + payload).digest()[:8]
    return base64.urlsafe_b64encode(payload + checksum).decode().rstrip("=")


def _assert_page_token_refused(error: grpc.aio.AioRpcError) -> None:
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(field_violations(error)) == ["page_token"]


async def test_a_forged_audit_page_token_at_position_1e20_is_invalid_argument(
    caller: Caller,
) -> None:
    organization = "org-" + secrets.token_hex(3)
    scope = AuditQuery(tenant=Tenant(organization, "p1")).scope()
    request = ListAuditEventsRequest(page_token=_checksummed([10**20], scope))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await caller.operations.list_audit_events(request, metadata=caller.tenant(organization))
    _assert_page_token_refused(raised.value)


async def test_a_forged_credential_page_token_is_invalid_argument(caller: Caller) -> None:
    organization = "org-" + secrets.token_hex(3)
    scope = query_scope("credentials", organization, "p1", None, None)
    forged = _checksummed(
        ["9999-12-31T23:59:59+00:00", "00000000-0000-0000-0000-000000000000"], scope
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await caller.credentials.list_credentials(
            ListCredentialsRequest(page_token=forged), metadata=caller.tenant(organization)
        )
    _assert_page_token_refused(raised.value)


async def test_a_page_token_altered_in_one_character_is_invalid_argument(caller: Caller) -> None:
    organization = "org-" + secrets.token_hex(3)
    for _ in range(2):
        await caller.stored(organization)
    page = await caller.operations.get_inventory(
        GetInventoryRequest(page_size=1), metadata=caller.tenant(organization)
    )
    token = page.next_page_token
    assert token
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await caller.operations.get_inventory(
            GetInventoryRequest(page_size=1, page_token=altered),
            metadata=caller.tenant(organization),
        )
    _assert_page_token_refused(raised.value)
    following = await caller.operations.get_inventory(
        GetInventoryRequest(page_size=1, page_token=token), metadata=caller.tenant(organization)
    )
    assert len(following.credentials) == 1
