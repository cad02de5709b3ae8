"""Canary secrets through every call path, succeeding and failing, never leave the request to
their provider: not in responses, status messages, details or trailers, logs (debug
included), metrics or traces, and not in any URL a provider saw.

The fakes are addressed by the providers' own host names (resolved to loopback, as a DNS
stand-in), so their error text is quoted after sanitizing, and they quote what they were sent.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator

import betterproto2
import grpc
import httpx
import pytest
import structlog
from integration_api_proto.integration.v1 import CallInstructions
from integration_api_proto.integration.v1.grpc_aio import TelephonyServiceStub
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from integration_api.config import Settings
from integration_api.observability import tracing
from integration_api.observability.logging import configure_logging
from integration_api.providers.egress import EgressPolicy
from integration_api.upstream.allow_list import parse_allow_list
from tests.calls.accounts import CallAccount, call_accounts, vonage_key_pair
from tests.calls.support import ANSWER_URL, Calls, place_request, stream
from tests.support.egress import at_host, resolve_provider_hosts_to_loopback
from tests.support.service import running_service

# The host each provider's credential names: its Voice API's own.
OWN_HOSTS = {
    "twilio": "api.twilio.com",
    "vonage": "api.nexmo.com",
    "plivo": "api.plivo.com",
    "telnyx": "api.telnyx.com",
    "exotel": "api.in.exotel.com",
}


@pytest.fixture
def debug_logging() -> Iterator[None]:
    configure_logging("debug", "json")
    yield
    structlog.reset_defaults()
    configure_logging("info", "console")


@pytest.fixture
def provider_names_reach_the_fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    def policy(cls: type[EgressPolicy], settings: Settings) -> EgressPolicy:
        allow = parse_allow_list(settings.egress_allow)
        return cls(allow=allow, resolve=resolve_provider_hosts_to_loopback)

    monkeypatch.setattr(EgressPolicy, "from_settings", classmethod(policy))


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.install(SimpleSpanProcessor(exporter))
    yield exporter
    tracing.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _blobs(result: object) -> list[bytes]:
    if isinstance(result, betterproto2.Message):
        return [bytes(result)]
    assert isinstance(result, grpc.aio.AioRpcError), result
    blobs = [(result.details() or "").encode()]
    for _key, value in result.trailing_metadata() or ():
        blobs.append(value if isinstance(value, bytes) else value.encode())
    return blobs


async def _every_path(calls: Calls, account: CallAccount) -> list[object]:
    """Place, read, change and end a call; then the same with the key refused."""
    answer = stream() if account.provider == "telnyx" else CallInstructions(url=ANSWER_URL)
    results: list[object] = []
    for refusing in (False, True):
        if refusing:
            account.accepted.clear()
            if hasattr(account.fake, "public_key"):
                account.fake.public_key = vonage_key_pair()[1]
        placed = await calls.place(place_request(account, answer))
        results.append(placed)
        call_id = next(iter(account.fake.book.calls), "CA0123456789abcdef0123456789abcdef")
        results.append(await calls.get(account, call_id))
        account.fake.book.set_status(call_id, _live_word(account.provider))
        results.append(await calls.update(account, call_id, transfer_to="+442071838750"))
        results.append(await calls.hang_up(account, call_id))
    return results


def _live_word(provider: str) -> str:
    return {"vonage": "answered", "telnyx": "alive"}.get(provider, "in-progress")


@pytest.mark.usefixtures("debug_logging", "provider_names_reach_the_fakes")
async def test_canary_secrets_never_leave_the_request_to_their_provider(
    empty_database_dsn: str,
    spans: InMemorySpanExporter,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    metrics_port = _free_port()
    blobs: list[bytes] = []
    async with running_service(empty_database_dsn, metrics_port=metrics_port) as service:
        address = lambda provider, url: at_host(url, OWN_HOSTS[provider])  # noqa: E731
        async with call_accounts(service, address) as accounts:
            calls = Calls(TelephonyServiceStub(service.channel), service)
            for account in accounts.values():
                account.reset()
                account.server.echo_credentials = True
                for result in await _every_path(calls, account):
                    blobs.extend(_blobs(result))
            async with httpx.AsyncClient() as client:
                metrics = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
            seen = [request for account in accounts.values() for request in account.server.requests]
            canaries = [secret for account in accounts.values() for secret in account.secrets]
            canaries += [token for token in accounts["vonage"].fake.presented]  # type: ignore[attr-defined]
    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    exported = json.dumps([json.loads(span.to_json()) for span in spans.get_finished_spans()])
    assert "TelephonyService/PlaceCall" in metrics
    assert any(b"20003" in blob for blob in blobs), "the provider's code is quoted"
    assert len(canaries) > 6, "five tokens, a private key and the Voice API tokens made"
    for canary in canaries:
        for line in canary.splitlines():
            if len(line) < 16:
                continue  # PEM armour lines are not secret
            assert line not in logs
            assert line not in metrics
            assert line not in exported
            assert all(line.encode() not in blob for blob in blobs)
            assert all(line not in request.path + str(request.query) for request in seen)
