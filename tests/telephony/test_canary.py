"""Canary secrets of every telephony credential, through ValidateWebhook's every outcome (valid,
replayed, tampered, missing header, stale, unsupported, not found), never appear in a response,
a status, a log line (debug included), a metric, a trace or Redis."""

from __future__ import annotations

import json
import logging
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import replace

import grpc
import httpx
import pytest
import redis.asyncio as redis
import structlog
from integration_api_proto.integration.v1 import (
    CredentialSecret,
    PlivoSecret,
    TelnyxSecret,
    TwilioSecret,
    VonageSecret,
)
from integration_api_proto.integration.v1.grpc_aio import TelephonyServiceStub
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from integration_api.config import RedisSettings
from integration_api.observability import tracing
from integration_api.observability.logging import configure_logging
from tests.fakes import telephony_accounts
from tests.support.service import running_service
from tests.telephony.conftest import store
from tests.telephony.signing import (
    SignedWebhook,
    TelnyxKeys,
    plivo_webhook,
    twilio_form,
    vonage_post,
)

EVENT = b'{"data":{"event_type":"call.hangup","id":"e1"}}'
FIELDS = [("CallSid", "CA" + "3" * 32), ("CallStatus", "completed")]


@pytest.fixture
def debug_logging() -> Iterator[None]:
    configure_logging("debug", "json")
    yield
    structlog.reset_defaults()
    configure_logging("info", "console")


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


def _canary(name: str) -> str:
    return f"{name}-CANARY{secrets.token_hex(12)}"


def _variants(webhook: SignedWebhook, stale: SignedWebhook | None = None) -> list[SignedWebhook]:
    """The webhook (valid, then replayed), tampered, without any header, and stale."""
    tampered = replace(webhook, body=webhook.body + b"x")
    variants = [webhook, webhook, tampered, replace(webhook, headers={})]
    return [*variants, stale] if stale is not None else variants


@pytest.mark.usefixtures("debug_logging")
async def test_canary_secrets_never_leave_through_webhook_validation(
    package_database_dsn: str,
    redis_prefix: str,
    spans: InMemorySpanExporter,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    canaries = {name: _canary(name) for name in ("twilio", "plivo", "vonage", "telnyx")}
    keys = TelnyxKeys.generate()
    stored = {
        "twilio": CredentialSecret(
            twilio=TwilioSecret(
                account_sid=telephony_accounts.TWILIO_ACCOUNT_SID, auth_token=canaries["twilio"]
            )
        ),
        "plivo": CredentialSecret(
            plivo=PlivoSecret(
                auth_id=telephony_accounts.PLIVO_AUTH_ID, auth_token=canaries["plivo"]
            )
        ),
        "vonage": CredentialSecret(
            vonage=VonageSecret(
                api_key=telephony_accounts.VONAGE_API_KEY,
                api_secret=_canary("vonage-api"),
                signature_secret=canaries["vonage"],
            )
        ),
        "telnyx": CredentialSecret(
            telnyx=TelnyxSecret(api_key=canaries["telnyx"], public_key=keys.public_base64)
        ),
    }
    webhooks = {
        "twilio": _variants(twilio_form(canaries["twilio"], "https://hooks.example.com/c", FIELDS)),
        "plivo": _variants(
            plivo_webhook(canaries["plivo"], "POST", "https://h.example.com", FIELDS)
        ),
        "vonage": _variants(
            vonage_post(canaries["vonage"], EVENT),
            vonage_post(canaries["vonage"], EVENT, iat=int(time.time()) - 900),
        ),
        "telnyx": _variants(keys.sign(EVENT), keys.sign(EVENT, int(time.time()) - 900)),
    }
    metrics_port = _free_port()
    answers: list[bytes] = []
    redis_settings = RedisSettings(host="127.0.0.1", key_prefix=redis_prefix)
    async with running_service(
        package_database_dsn, redis=redis_settings, metrics_port=metrics_port
    ) as service:
        telephony = TelephonyServiceStub(service.channel)
        for provider, secret in stored.items():
            credential_id = await store(service, provider, secret)
            for webhook in webhooks[provider]:
                reply = await telephony.validate_webhook(
                    webhook.request(credential_id), metadata=service.auth()
                )
                answers.append(bytes(reply) + json.dumps(reply.to_dict()).encode())
            other = service.auth(organization_id="org-canary-other")
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await telephony.validate_webhook(
                    webhooks[provider][0].request(credential_id), metadata=other
                )
            answers.append((raised.value.details() or "").encode())
            answers.extend(
                value if isinstance(value, bytes) else value.encode()
                for _key, value in raised.value.trailing_metadata() or ()
            )
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
        shared = redis.Redis(host="127.0.0.1", port=6379)
        try:
            names = [name async for name in shared.scan_iter(f"{redis_prefix}*")]
            in_redis = b"".join(names + [await shared.get(name) or b"" for name in names])
        finally:
            await shared.aclose()
    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    exported = json.dumps([json.loads(span.to_json()) for span in spans.get_finished_spans()])
    assert "integration_api_telephony_webhooks_total" in metrics
    assert "TelephonyService/ValidateWebhook" in exported, "the RPCs were traced"
    assert b"webhook-replays:" in in_redis
    reasons = b" ".join(answers)
    for reason in (b"replayed", b"signature_mismatch", b"missing_header", b"stale_timestamp"):
        assert reason in reasons
    for canary in canaries.values():
        for where in (logs, metrics, exported):
            assert canary not in where
        assert canary.encode() not in in_redis
        assert all(canary.encode() not in answer for answer in answers)
