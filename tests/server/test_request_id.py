"""The caller's x-request-id is echoed and recorded only when it is a short plain token."""

from __future__ import annotations

import re
import uuid

import grpc
import pytest
from integration_api_proto.integration.v1 import GetCredentialRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from tests.credentials.conftest import new_openai_key
from tests.credentials.helpers import error_info, openai_request
from tests.support.service import RunningService, running_service

GENERATED = re.compile(r"[0-9a-f]{32}")

UNFIT = {
    "too long": "r" * 129,
    "spaces": "req 1 admin=true",
    "log injection": 'req-1" level=error msg="forged',
    "markup": "<script>alert(1)</script>",
    "lookup string": "${jndi:ldap://example.com/a}",
    "ansi escape text": "\\x1b[31mred",
}


async def _request_id_in_error(service: RunningService, offered: str) -> tuple[str, str]:
    stub = CredentialServiceStub(service.channel)
    metadata = (*service.auth(), ("x-request-id", offered))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.get_credential(GetCredentialRequest(id=str(uuid.uuid4())), metadata=metadata)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    return error_info(raised.value).metadata["request_id"], str(raised.value.trailing_metadata())


@pytest.mark.parametrize("offered", ["req-1", "trace.4bf92f35:00f067aa_0b-1", "a" * 128])
async def test_a_plain_request_id_is_kept(service: RunningService, offered: str) -> None:
    echoed, _trailers = await _request_id_in_error(service, offered)
    assert echoed == offered


@pytest.mark.parametrize("case", UNFIT)
async def test_an_unfit_request_id_is_replaced_never_echoed(
    service: RunningService, case: str
) -> None:
    echoed, trailers = await _request_id_in_error(service, UNFIT[case])
    assert GENERATED.fullmatch(echoed)
    assert UNFIT[case] not in trailers


async def test_the_audit_chain_records_the_replacement_not_the_offer(
    empty_database_dsn: str,
) -> None:
    # A database of its own: the stored credential is bound to this service's keyring.
    async with running_service(empty_database_dsn) as service:
        stub = CredentialServiceStub(service.channel)
        request = openai_request(new_openai_key(), "http://127.0.0.1:9", skip_verification=True)
        metadata = (*service.auth(), ("x-request-id", UNFIT["log injection"]))
        created = (await stub.create_credential(request, metadata=metadata)).credential
        recorded = await service.app.runtime.database.pool.fetchval(
            "SELECT request_id FROM audit_events WHERE target_id = $1", created.id
        )
    assert GENERATED.fullmatch(recorded)
