"""Validation patterns match whole values: a trailing newline is not part of a valid value."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    ListCredentialsRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.errors import InvalidArgument
from integration_api.oauth.request_checks import StartRequest, check_start_request
from integration_api.providers.endpoints import validate_region
from tests.credentials.helpers import field_violations
from tests.support.service import RunningService

SOURCE = Path(__file__).resolve().parents[2] / "src" / "integration_api"
# `$` matches before a final newline; `\Z` or fullmatch do not.
DOLLAR_ANCHOR = re.compile(r"""re\.compile\(\s*r?f?r?["'][^"']*\$["']""")


async def test_a_cartesia_version_with_a_trailing_newline_is_refused_and_not_stored(
    service: RunningService,
) -> None:
    tenant = service.auth(organization_id=f"org-{uuid.uuid4().hex[:8]}")
    stub = CredentialServiceStub(service.channel)
    request = CreateCredentialRequest(
        provider="cartesia",
        name="voice",
        secret=CredentialSecret(api_key=ApiKeySecret(key="sk_car_" + "v" * 32)),
        config=CredentialConfig(extra={"cartesia_version": "2026-03-01\n"}),
        skip_verification=True,
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.create_credential(request, metadata=tenant)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(field_violations(raised.value)) == ["config.extra.cartesia_version"]
    listed = await stub.list_credentials(ListCredentialsRequest(), metadata=tenant)
    assert listed.credentials == []


def test_a_scope_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        check_start_request(StartRequest("google", ("openid\n",), "mail", ""))


def test_a_region_with_a_trailing_newline_is_refused() -> None:
    assert validate_region("us-east-1") is None
    assert validate_region("us-east-1\n") is not None


def test_no_pattern_in_the_source_is_anchored_with_a_dollar() -> None:
    anchored = [
        f"{path.relative_to(SOURCE)}: {match.group(0)}"
        for path in sorted(SOURCE.rglob("*.py"))
        for match in DOLLAR_ANCHOR.finditer(path.read_text())
    ]
    assert anchored == []
