"""`scripts/bench --telephony`: the service CPU one ValidateWebhook costs, per provider.

Starts the service (`bench_service.py`, on a fresh database) once with the webhook replay
memory in the process and once in the local Redis, stores a credential per signing provider,
then sends distinct genuine webhooks (each would be `replayed` if sent twice) at each
concurrency, in rounds, and divides the service's CPU time by the calls. A health `Check` on
the same channel is measured alike: the floor of one unary gRPC call through the process
(no authentication, no credential, no signature). Target: under 0.3 ms of service CPU per
ValidateWebhook at concurrency 16.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import grpc.aio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import (
    CreateCredentialRequest,
    CredentialSecret,
    PlivoSecret,
    TelnyxSecret,
    TwilioSecret,
    ValidateWebhookRequest,
    VonageSecret,
    WebhookHeader,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.cache.redis_client import create_redis_client
from integration_api.config import RedisSettings
from integration_api.credentials.model import (
    PlivoAccount,
    SecretMaterial,
    TelnyxAccount,
    TwilioAccount,
    VonageAccount,
)
from integration_api.providers.plivo.webhook import canonical_url, signature
from integration_api.providers.registry import webhook_checker_for
from integration_api.providers.twilio.webhook import signed_text
from integration_api.telephony.replay_batches import SetIfAbsentBatches
from integration_api.telephony.webhook_converters import (
    response_from_verdict,
    webhook_from_request,
)
from integration_api.telephony.webhooks import Genuine, UnsignedWebhooks, WebhookVerdict
from integration_api.vault import generate_key
from scripts.tools.bench_load import Call, RoundResult, Sample, run_round
from scripts.tools.bench_processes import Child, child, fresh_database
from scripts.tools.bench_report import machine

TARGET_MS = 0.3
TARGET_CONCURRENCY = 16
ROUNDS = 4
VALIDATE = "/integration.v1.TelephonyService/ValidateWebhook"
HEALTH = "/grpc.health.v1.Health/Check"
# A ValidateWebhookResponse that starts with field 1 (valid) set to true.
_VALID = b"\x08\x01"
TWILIO_TOKEN = "bench-twilio-token-" + "0" * 14
PLIVO_TOKEN = "bench-plivo-token-" + "0" * 14
VONAGE_SECRET = "bench-vonage-signature-secret-" + "0" * 10
FORM = [("CallSid", "CA" + "1" * 32), ("CallStatus", "ringing"), ("From", "+15005550006")]
EVENT = b'{"data":{"event_type":"call.initiated","payload":{"call_control_id":"v3:abc"}}}'


def _twilio(unique: str) -> tuple[str, dict[str, str], bytes]:
    url = f"https://hooks.example.com/twilio/voice?n={unique}"
    fields = {name: [value] for name, value in FORM}
    mac = hmac.new(TWILIO_TOKEN.encode(), signed_text(url, fields).encode(), hashlib.sha1)
    headers = {
        "X-Twilio-Signature": base64.b64encode(mac.digest()).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return url, headers, urlencode(FORM).encode()


def _plivo(unique: str) -> tuple[str, dict[str, str], bytes]:
    url = "https://hooks.example.com/plivo/answer"
    fields = {name: [value] for name, value in FORM}
    signed = signature(PLIVO_TOKEN, canonical_url("POST", url, fields), unique).decode()
    headers = {
        "X-Plivo-Signature-V3": signed,
        "X-Plivo-Signature-V3-Nonce": unique,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return url, headers, urlencode(FORM).encode()


def _segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _vonage(unique: str) -> tuple[str, dict[str, str], bytes]:
    claims = {
        "iat": int(time.time()),
        "jti": unique,
        "iss": "Vonage",
        "api_key": "a1b2c3d4",
        "payload_hash": hashlib.sha256(EVENT).hexdigest(),
    }
    head = _segment(b'{"alg":"HS256","typ":"JWT"}')
    body = _segment(json.dumps(claims).encode())
    mac = hmac.new(VONAGE_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256)
    token = f"{head}.{body}.{_segment(mac.digest())}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return "https://hooks.example.com/vonage/event", headers, EVENT


@dataclass(frozen=True)
class Telnyx:
    key: Ed25519PrivateKey

    def public_base64(self) -> str:
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def __call__(self, unique: str) -> tuple[str, dict[str, str], bytes]:
        body = EVENT.replace(b"abc", unique.encode())
        stamp = str(int(time.time()))
        signed = base64.b64encode(self.key.sign(stamp.encode() + b"|" + body)).decode()
        headers = {
            "telnyx-signature-ed25519": signed,
            "telnyx-timestamp": stamp,
            "Content-Type": "application/json",
        }
        return "https://hooks.example.com/telnyx", headers, body


Signer = Callable[[str], tuple[str, dict[str, str], bytes]]


def _secrets(telnyx: Telnyx) -> dict[str, CredentialSecret]:
    return {
        "twilio": CredentialSecret(
            twilio=TwilioSecret(account_sid="AC" + "ab" * 16, auth_token=TWILIO_TOKEN)
        ),
        "vonage": CredentialSecret(
            vonage=VonageSecret(
                api_key="a1b2c3d4", api_secret="bench-api-secret", signature_secret=VONAGE_SECRET
            )
        ),
        "plivo": CredentialSecret(plivo=PlivoSecret(auth_id="MABENCH0001", auth_token=PLIVO_TOKEN)),
        "telnyx": CredentialSecret(
            telnyx=TelnyxSecret(api_key="KEYbench0001", public_key=telnyx.public_base64())
        ),
    }


def requests_for(credential_id: str, sign: Signer, count: int) -> Iterator[bytes]:
    """`count` distinct genuine webhooks, serialized (signed while the run goes on, so that a
    timestamped one is fresh when it is sent)."""
    for _ in range(count):
        url, headers, body = sign(secrets.token_hex(12))
        request = ValidateWebhookRequest(
            credential_id=credential_id,
            method="POST",
            url=url,
            headers=[WebhookHeader(name=name, value=value) for name, value in headers.items()],
            body=body,
        )
        yield bytes(request)


@dataclass(frozen=True)
class StepCosts:
    """CPU microseconds per webhook of ValidateWebhook's own steps, in this process."""

    decode: float
    check: float
    encode: float


def step_microseconds(provider: str, secret: SecretMaterial, sign: Signer, count: int) -> StepCosts:
    """Decoding the request (betterproto2) into the domain's webhook, the provider's signature
    check, and encoding a valid answer: no gRPC, no credential lookup, no replay memory."""
    checker = webhook_checker_for(provider)
    assert checker is not None and not isinstance(checker, UnsignedWebhooks)
    requests = list(requests_for("bench", sign, count))
    started = time.process_time()
    webhooks = [webhook_from_request(ValidateWebhookRequest.FromString(r)) for r in requests]
    decoded = time.process_time()
    now = time.time()
    for webhook in webhooks:
        assert isinstance(checker.check(webhook, secret, now), Genuine)
    checked = time.process_time()
    for _webhook in webhooks:
        bytes(response_from_verdict(WebhookVerdict(None)))
    encoded = time.process_time()
    return StepCosts(
        (decoded - started) * 1e6 / count,
        (checked - decoded) * 1e6 / count,
        (encoded - checked) * 1e6 / count,
    )


def domain_secrets(telnyx: Telnyx) -> dict[str, SecretMaterial]:
    """The secrets of `_secrets` as the checkers receive them, decrypted."""
    return {
        "twilio": TwilioAccount(account_sid="AC" + "ab" * 16, auth_token=TWILIO_TOKEN),
        "vonage": VonageAccount(api_key="a1b2c3d4", signature_secret=VONAGE_SECRET),
        "plivo": PlivoAccount(auth_id="MABENCH0001", auth_token=PLIVO_TOKEN),
        "telnyx": TelnyxAccount(api_key="KEYbench0001", public_key=telnyx.public_base64()),
    }


async def redis_set_microseconds(batched: bool, callers: int = 16, each: int = 200) -> float:
    """CPU microseconds per `SET NX PX` from `callers` concurrent callers: one command a call,
    or the calls that arrive together in one pipeline (as the replay memory sends them)."""
    client = create_redis_client(RedisSettings(host="127.0.0.1"))
    batches = SetIfAbsentBatches(client)
    prefix = f"bench-{secrets.token_hex(4)}:"

    async def caller() -> None:
        for _ in range(each):
            await asyncio.sleep(0)  # each caller runs on its own, as RPC handlers do
            key, lifetime = prefix + secrets.token_hex(16), 30_000
            if batched:
                await batches.set_if_absent(key, lifetime)
            else:
                await client.set(key, b"1", nx=True, px=lifetime)

    try:
        started = time.process_time()
        await asyncio.gather(*(caller() for _ in range(callers)))
        return (time.process_time() - started) * 1e6 / (callers * each)
    finally:
        await batches.close()
        await client.aclose()


@dataclass(frozen=True)
class Row:
    memory: str
    rpc: str
    concurrency: int
    calls: int
    errors: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_call: float

    def line(self) -> str:
        verdict = ""
        if self.rpc != "health Check" and self.concurrency == TARGET_CONCURRENCY:
            verdict = "yes" if self.cpu_ms_per_call < TARGET_MS else "no"
        return (
            f"| {self.memory} | {self.rpc} | {self.concurrency} | {self.calls} | {self.errors} "
            f"| {self.per_second:.0f} | {self.p50_ms:.2f} | {self.p99_ms:.2f} "
            f"| {self.cpu_ms_per_call:.3f} | {verdict} |"
        )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0.0


async def measure_level(
    service: Child,
    call: Call,
    concurrency: int,
    calls: int,
) -> tuple[RoundResult, float]:
    """Warm up, then rounds of the calls; the service's CPU seconds over the rounds."""
    await run_round(call, concurrency, concurrency * 4, 1)
    result, cpu = RoundResult(), 0.0
    for _ in range(ROUNDS):
        before = service.cpu_seconds()
        result.merge(await run_round(call, concurrency, calls // ROUNDS, 1))
        cpu += service.cpu_seconds() - before
    return result, cpu


def _row(memory: str, rpc: str, concurrency: int, result: RoundResult, cpu: float) -> Row:
    calls = max(1, result.completed)
    return Row(
        memory,
        rpc,
        concurrency,
        result.completed,
        result.errors,
        result.completed / result.wall if result.wall else 0.0,
        _percentile(result.totals, 0.5),
        _percentile(result.totals, 0.99),
        cpu * 1000 / calls,
    )


async def run_memory(dsn: str, memory: str, arguments: argparse.Namespace) -> list[Row]:
    """Every level of every provider against one service with this replay memory."""
    secret = secrets.token_urlsafe(48)
    environment = {"SECRET": secret, "INTEGRATION_CRYPTO_KEY": generate_key()}
    service_arguments = ["--dsn", dsn, "--log-level", arguments.log_level]
    if memory == "redis":
        service_arguments += ["--redis-prefix", f"bench-{secrets.token_hex(4)}:"]
    token = mint_token(
        secret, organization_id="org-bench", project_id="p-bench", ttl=timedelta(hours=2)
    )
    metadata = (("authorization", f"Bearer {token}"),)
    telnyx = Telnyx(Ed25519PrivateKey.generate())
    signers: dict[str, Signer] = {
        "twilio": _twilio,
        "vonage": _vonage,
        "plivo": _plivo,
        "telnyx": telnyx,
    }
    rows: list[Row] = []
    async with child("bench_service.py", service_arguments, environment) as service:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.port}")
        try:
            stub = CredentialServiceStub(channel)
            ids = {}
            for provider, credential_secret in _secrets(telnyx).items():
                reply = await stub.create_credential(
                    CreateCredentialRequest(
                        provider=provider,
                        name=f"bench-{provider}-{secrets.token_hex(4)}",
                        secret=credential_secret,
                        skip_verification=True,
                    ),
                    metadata=metadata,
                )
                assert reply.credential is not None
                ids[provider] = reply.credential.id
            validate: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(VALIDATE)
            health: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(HEALTH)
            check = health_pb2.HealthCheckRequest().SerializeToString()

            async def health_call() -> Sample:
                started = time.perf_counter()
                await health(check, timeout=30)
                elapsed = time.perf_counter() - started
                return Sample(elapsed, elapsed, 1)

            for concurrency in arguments.telephony_concurrency:
                calls = max(arguments.telephony_calls, concurrency * 50)
                result, cpu = await measure_level(service, health_call, concurrency, calls)
                rows.append(_row(memory, "health Check", concurrency, result, cpu))
                for provider, sign in signers.items():
                    pending = requests_for(ids[provider], sign, calls * 2 + concurrency * 8)

                    async def validate_call(pending: Iterator[bytes] = pending) -> Sample:
                        request = next(pending)
                        started = time.perf_counter()
                        answer = await validate(request, metadata=metadata, timeout=30)
                        elapsed = time.perf_counter() - started
                        return Sample(elapsed, elapsed, 1 if answer.startswith(_VALID) else 0)

                    result, cpu = await measure_level(service, validate_call, concurrency, calls)
                    row = _row(memory, f"ValidateWebhook {provider}", concurrency, result, cpu)
                    print(f"  {row.line()}", file=sys.stderr)
                    rows.append(row)
        finally:
            await channel.close()
    return rows


async def run_telephony(arguments: argparse.Namespace) -> list[Row]:
    started = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    rows: list[Row] = []
    async with fresh_database() as dsn:
        for memory in arguments.telephony_memory:
            print(f"measuring ValidateWebhook, replay memory: {memory}", file=sys.stderr)
            rows += await run_memory(dsn, memory, arguments)
    header = (
        "| replay memory | rpc | c | calls | errors | calls/s | p50 ms | p99 ms "
        f"| service CPU ms/call | < {TARGET_MS} ms at c={TARGET_CONCURRENCY} |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    print(f"# integration-api telephony benchmark, {started}\n\n{machine()}\n")
    print("## ValidateWebhook: service CPU per call (health Check: the unary gRPC floor)\n")
    print(header)
    for row in rows:
        print(row.line())
    telnyx = Telnyx(Ed25519PrivateKey.generate())
    signers: dict[str, Signer] = {
        "twilio": _twilio,
        "vonage": _vonage,
        "plivo": _plivo,
        "telnyx": telnyx,
    }
    print("\n## ValidateWebhook's own steps, in one process (no gRPC, no credential lookup)\n")
    print("| provider | decode request µs | signature check µs | encode answer µs |")
    print("|---|---|---|---|")
    for provider, secret in domain_secrets(telnyx).items():
        steps = step_microseconds(provider, secret, signers[provider], 2000)
        print(f"| {provider} | {steps.decode:.1f} | {steps.check:.1f} | {steps.encode:.1f} |")
    if "redis" in arguments.telephony_memory:
        print("\n## A Redis `SET NX PX` from 16 concurrent callers, in this process\n")
        print("| sent | CPU µs per call |\n|---|---|")
        for batched in (False, True):
            micros = await redis_set_microseconds(batched)
            label = "pipelined with the calls arriving together" if batched else "one a call"
            print(f"| {label} | {micros:.0f} |")
    validated = [r for r in rows if r.rpc != "health Check" and r.concurrency == TARGET_CONCURRENCY]
    if validated:
        worst = max(validated, key=lambda r: r.cpu_ms_per_call)
        mean = statistics.fmean(r.cpu_ms_per_call for r in validated)
        print(
            f"\nTarget: under {TARGET_MS} ms of service CPU per ValidateWebhook at "
            f"c={TARGET_CONCURRENCY}: worst {worst.cpu_ms_per_call:.3f} ms ({worst.rpc}, "
            f"{worst.memory}), mean {mean:.3f} ms: "
            + ("met" if worst.cpu_ms_per_call < TARGET_MS else "not met")
        )
    return rows


def _levels(text: str) -> list[int]:
    return [int(value) for value in text.split(",") if value]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--telephony", action="store_true", help=__doc__.splitlines()[0])
    parser.add_argument("--telephony-concurrency", type=_levels, default=[1, 16], help="levels")
    parser.add_argument(
        "--telephony-calls", type=int, default=2000, help="calls per provider and level"
    )
    parser.add_argument(
        "--telephony-memory",
        type=lambda text: [value for value in text.split(",") if value],
        default=["process", "redis"],
        help="where accepted webhooks are remembered: process, redis or both",
    )
    parser.add_argument("--log-level", default="info", help="the service's log level")
    asyncio.run(run_telephony(parser.parse_args()))


if __name__ == "__main__":
    main()
