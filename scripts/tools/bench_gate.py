"""What the credentials' gate costs a call: taking a permit before the provider, giving it back.

Runs against the local Redis (`--redis-host`, `--redis-port`) and in process, for a credential
without limits and one with all three, and prints the median and p99 of each step in
milliseconds. Taking the permit is on the path to the first token; giving it back happens after
the answer.

    .venv/bin/python -m scripts.tools.bench_gate [--calls 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time

from integration_api.cache.call_gate import RedisCallGate
from integration_api.cache.redis_client import create_redis_client
from integration_api.config import RedisSettings
from integration_api.credentials.call_gate import CallGate, CallResult
from integration_api.credentials.local_gate import LocalCallGate
from integration_api.credentials.model import CredentialLimits

NO_LIMITS = CredentialLimits()
ALL_LIMITS = CredentialLimits(
    requests_per_minute=1_000_000, tokens_per_minute=1_000_000_000, concurrent_calls=10_000
)
WARM_UP = 200


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


async def _measure(gate: CallGate, limits: CredentialLimits, calls: int) -> tuple[float, ...]:
    credential = "bench-" + secrets.token_hex(4)
    taking: list[float] = []
    giving: list[float] = []
    for index in range(WARM_UP + calls):
        started = time.perf_counter()
        permit = await gate.acquire(credential, limits)
        taken = time.perf_counter()
        await gate.release(permit, CallResult("success", tokens=20))
        given = time.perf_counter()
        if index >= WARM_UP:
            taking.append(taken - started)
            giving.append(given - taken)
    return (
        _percentile(taking, 0.5),
        _percentile(taking, 0.99),
        _percentile(giving, 0.5),
        _percentile(giving, 0.99),
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000, help="calls per case (default: 5000)")
    parser.add_argument("--redis-host", default="127.0.0.1", help="(default: 127.0.0.1)")
    parser.add_argument("--redis-port", type=int, default=6379, help="(default: 6379)")
    options = parser.parse_args()
    settings = RedisSettings(host=options.redis_host, port=options.redis_port)
    redis_gate = RedisCallGate(create_redis_client(settings), f"bench:{secrets.token_hex(4)}:")
    cases: list[tuple[str, CallGate, CredentialLimits]] = [
        ("in process, no limits", LocalCallGate(), NO_LIMITS),
        ("in process, all limits", LocalCallGate(), ALL_LIMITS),
        ("redis, no limits", redis_gate, NO_LIMITS),
        ("redis, all limits", redis_gate, ALL_LIMITS),
    ]
    print(f"{'case':<24} {'acquire p50':>12} {'p99':>8} {'release p50':>12} {'p99':>8}  (ms)")
    try:
        for name, gate, limits in cases:
            figures = await _measure(gate, limits, options.calls)
            print(
                f"{name:<24} {figures[0]:>12.3f} {figures[1]:>8.3f} {figures[2]:>12.3f} "
                f"{figures[3]:>8.3f}"
            )
    finally:
        await redis_gate.close()


if __name__ == "__main__":
    asyncio.run(main())
