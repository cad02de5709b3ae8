"""`scripts/bench --telephony-calls`: the latency PlaceCall adds to a direct call to the provider.

Starts a fast fake of the providers' call creation (`bench_telephony_upstream.py`) and the
service (`bench_service.py`, on a fresh database), stores a Twilio, a Vonage and a Telnyx
credential whose `base_url` is the fake, then, at each concurrency, places calls that stream to
a voice agent two ways in alternating rounds (so drift in the machine affects both alike):
directly, as a client holding the key would (the same request bytes, built by the service's own
provider modules, over aiohttp keep-alive), and through PlaceCall. Prints the p50 and p99 of
each, their difference, and the service's CPU per PlaceCall. The direct Vonage request carries
a token signed once; through the service every request signs a fresh RS256 token, whose cost
alone is printed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from urllib.parse import urlencode

import aiohttp
import grpc.aio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from integration_api_proto.integration.v1 import (
    CallInstructions,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    MediaStream,
    PlaceCallRequest,
    TelnyxSecret,
    TwilioSecret,
    VonageSecret,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.credentials.model import (
    CredentialConfig as DomainConfig,
)
from integration_api.credentials.model import (
    ProviderCredential,
    TelnyxAccount,
    TwilioAccount,
    VonageAccount,
)
from integration_api.providers.telnyx import calls as telnyx_calls
from integration_api.providers.twilio import calls as twilio_calls
from integration_api.providers.vonage import calls as vonage_calls
from integration_api.providers.vonage.voice_token import voice_token
from integration_api.telephony import calls as contract
from integration_api.vault import generate_key
from scripts.tools.bench_load import RoundResult, Sample, run_round
from scripts.tools.bench_processes import Child, child, fresh_database
from scripts.tools.bench_report import machine

ROUNDS = 4
PLACE = "/integration.v1.TelephonyService/PlaceCall"
PROVIDERS = ("twilio", "vonage", "telnyx")
TWILIO_SID = "AC" + "ab" * 16
TOKEN = "bench-telephony-token-" + "0" * 12
CONNECTION_ID = "1684641123236054244"
VONAGE_APPLICATION_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
AGENT_URL = "wss://agent.example.com/media"
PARAMETERS = {"agent": "support-en", "session": "bench"}
FROM, TO = "+15005550006", "+14155550123"


def _private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True)
class Account:
    """One provider's credential, as stored and as the provider modules see it decrypted."""

    provider: str
    secret: CredentialSecret
    config: dict[str, str]
    domain: ProviderCredential


def accounts(base_url: str, private_key: str) -> list[Account]:
    config = DomainConfig(base_url=base_url)
    telnyx_config = DomainConfig(
        base_url=base_url, extra=MappingProxyType({"connection_id": CONNECTION_ID})
    )
    vonage = VonageAccount(
        api_key="a1b2c3d4",
        api_secret=TOKEN,
        application_id=VONAGE_APPLICATION_ID,
        private_key=private_key,
    )
    return [
        Account(
            "twilio",
            CredentialSecret(twilio=TwilioSecret(account_sid=TWILIO_SID, auth_token=TOKEN)),
            {},
            ProviderCredential("bench", "twilio", config, TwilioAccount(TWILIO_SID, TOKEN)),
        ),
        Account(
            "vonage",
            CredentialSecret(
                vonage=VonageSecret(
                    api_key="a1b2c3d4",
                    api_secret=TOKEN,
                    application_id=VONAGE_APPLICATION_ID,
                    private_key=private_key,
                )
            ),
            {},
            ProviderCredential("bench", "vonage", config, vonage),
        ),
        Account(
            "telnyx",
            CredentialSecret(telnyx=TelnyxSecret(api_key=TOKEN)),
            {"connection_id": CONNECTION_ID},
            ProviderCredential("bench", "telnyx", telnyx_config, TelnyxAccount(TOKEN)),
        ),
    ]


def _placed() -> contract.PlaceCall:
    stream = contract.MediaStream(AGENT_URL, MappingProxyType(PARAMETERS))
    return contract.PlaceCall(FROM, TO, stream)


@dataclass(frozen=True)
class DirectRequest:
    """The request the provider module sends, ready to send again and again."""

    url: str
    headers: dict[str, str]
    body: bytes


def direct_request(account: Account) -> DirectRequest:
    credential, placed = account.domain, _placed()
    if account.provider == "twilio":
        from integration_api.providers.twilio.account import account_url, auth_headers

        headers = {**auth_headers(credential), "Content-Type": "application/x-www-form-urlencoded"}
        body = urlencode(twilio_calls.place_form(placed)).encode()
        return DirectRequest(account_url(credential, "Calls.json"), headers, body)
    if account.provider == "vonage":
        from integration_api.providers.vonage.account import voice_url

        headers = {
            "Authorization": f"Bearer {voice_token(credential)}",
            "Content-Type": "application/json",
        }
        body = json.dumps(vonage_calls.place_body(placed)).encode()
        return DirectRequest(voice_url(credential, "calls"), headers, body)
    from integration_api.providers.telnyx.account import api_url, auth_headers

    headers = {**auth_headers(credential), "Content-Type": "application/json"}
    body = json.dumps(telnyx_calls.place_body(credential, placed)).encode()
    return DirectRequest(api_url(credential, "calls"), headers, body)


def place_request(credential_id: str) -> bytes:
    answer = CallInstructions(media_stream=MediaStream(url=AGENT_URL, parameters=PARAMETERS))
    request = PlaceCallRequest(
        credential_id=credential_id, from_number=FROM, to_number=TO, answer=answer
    )
    return bytes(request)


Call = Callable[[], Awaitable[Sample]]


def _direct_call(session: aiohttp.ClientSession, request: DirectRequest) -> Call:
    async def call() -> Sample:
        started = time.perf_counter()
        async with session.post(request.url, data=request.body, headers=request.headers) as got:
            await got.read()
            ok = got.status in (200, 201)
        elapsed = time.perf_counter() - started
        return Sample(elapsed, elapsed, 1 if ok else 0)

    return call


def _service_call(
    place: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes],
    request: bytes,
    metadata: tuple[tuple[str, str], ...],
) -> Call:
    async def call() -> Sample:
        started = time.perf_counter()
        await place(request, metadata=metadata, timeout=30)
        elapsed = time.perf_counter() - started
        return Sample(elapsed, elapsed, 1)

    return call


@dataclass(frozen=True)
class Row:
    provider: str
    concurrency: int
    calls: int
    errors: int
    direct_p50: float
    direct_p99: float
    service_p50: float
    service_p99: float
    cpu_ms_per_call: float

    def line(self) -> str:
        return (
            f"| {self.provider} | {self.concurrency} | {self.calls} | {self.errors} "
            f"| {self.direct_p50:.2f} | {self.direct_p99:.2f} "
            f"| {self.service_p50:.2f} | {self.service_p99:.2f} "
            f"| {self.service_p50 - self.direct_p50:+.2f} "
            f"| {self.service_p99 - self.direct_p99:+.2f} | {self.cpu_ms_per_call:.3f} |"
        )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0.0


async def measure(
    service: Child, direct: Call, through: Call, concurrency: int, calls: int
) -> tuple[RoundResult, RoundResult, float]:
    """Warm both up, then alternate rounds; the service's CPU seconds over its rounds."""
    await run_round(direct, concurrency, concurrency * 4, 1)
    await run_round(through, concurrency, concurrency * 4, 1)
    direct_result, service_result, cpu = RoundResult(), RoundResult(), 0.0
    for _ in range(ROUNDS):
        direct_result.merge(await run_round(direct, concurrency, calls // ROUNDS, 1))
        before = service.cpu_seconds()
        service_result.merge(await run_round(through, concurrency, calls // ROUNDS, 1))
        cpu += service.cpu_seconds() - before
    return direct_result, service_result, cpu


async def _store(
    stub: CredentialServiceStub,
    account: Account,
    base_url: str,
    metadata: tuple[tuple[str, str], ...],
) -> str:
    reply = await stub.create_credential(
        CreateCredentialRequest(
            provider=account.provider,
            name=f"bench-{account.provider}",
            secret=account.secret,
            config=CredentialConfig(base_url=base_url, extra=account.config),
            skip_verification=True,
        ),
        metadata=metadata,
    )
    assert reply.credential is not None
    return reply.credential.id


async def run(arguments: argparse.Namespace) -> list[Row]:
    secret = secrets.token_urlsafe(48)
    environment = {"SECRET": secret, "INTEGRATION_CRYPTO_KEY": generate_key()}
    token = mint_token(
        secret, organization_id="org-bench", project_id="p-bench", ttl=timedelta(hours=2)
    )
    metadata = (("authorization", f"Bearer {token}"),)
    private_key = _private_key()
    rows: list[Row] = []
    async with (
        fresh_database() as dsn,
        child("bench_telephony_upstream.py", [], {}) as upstream,
        child(
            "bench_service.py", ["--dsn", dsn, "--log-level", arguments.log_level], environment
        ) as service,
    ):
        base_url = f"http://127.0.0.1:{upstream.port}"
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.port}")
        connector = aiohttp.TCPConnector(limit=max(arguments.telephony_calls_concurrency))
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                stub = CredentialServiceStub(channel)
                place: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(PLACE)
                for account in accounts(base_url, private_key):
                    credential_id = await _store(stub, account, base_url, metadata)
                    direct = _direct_call(session, direct_request(account))
                    through = _service_call(place, place_request(credential_id), metadata)
                    for concurrency in arguments.telephony_calls_concurrency:
                        calls = max(arguments.telephony_calls_count, concurrency * 40)
                        found = await measure(service, direct, through, concurrency, calls)
                        rows.append(_row(account.provider, concurrency, *found))
                        print(f"  {rows[-1].line()}", file=sys.stderr)
        finally:
            await channel.close()
    return rows


def _row(
    provider: str, concurrency: int, direct: RoundResult, through: RoundResult, cpu: float
) -> Row:
    return Row(
        provider,
        concurrency,
        through.completed,
        direct.errors + through.errors,
        _percentile(direct.totals, 0.5),
        _percentile(direct.totals, 0.99),
        _percentile(through.totals, 0.5),
        _percentile(through.totals, 0.99),
        cpu * 1000 / max(1, through.completed),
    )


def token_microseconds(count: int = 500) -> float:
    """Signing one Vonage Voice API token (RS256, 2048-bit key), CPU microseconds."""
    credential = accounts("http://127.0.0.1:1", _private_key())[1].domain
    started = time.process_time()
    for _ in range(count):
        voice_token(credential)
    return (time.process_time() - started) * 1e6 / count


async def report(arguments: argparse.Namespace) -> None:
    started = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    print("measuring PlaceCall against a direct call to the fake provider", file=sys.stderr)
    rows = await run(arguments)
    print(f"# integration-api call-control benchmark, {started}\n\n{machine()}\n")
    print("## PlaceCall (a media stream to a voice agent): direct vs through the service\n")
    print(
        "| provider | c | calls | errors | direct p50 ms | direct p99 ms | service p50 ms "
        "| service p99 ms | added p50 ms | added p99 ms | service CPU ms/call |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )
    for row in rows:
        print(row.line())
    print(
        f"\nOne Vonage Voice API token (RS256, 2048-bit), signed in-process: "
        f"{token_microseconds():.0f} µs of CPU."
    )


def _levels(text: str) -> list[int]:
    return [int(value) for value in text.split(",") if value]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--telephony-calls", action="store_true", help=__doc__.splitlines()[0])
    parser.add_argument(
        "--telephony-calls-concurrency", type=_levels, default=[1, 16], help="levels"
    )
    parser.add_argument(
        "--telephony-calls-count", type=int, default=800, help="calls per provider and level"
    )
    parser.add_argument("--log-level", default="info", help="the service's log level")
    asyncio.run(report(parser.parse_args()))


if __name__ == "__main__":
    main()
