"""The provider transport alone: CPU per fast SSE stream through `open_event_stream`, in-process.

Starts `bench_upstream.py` (the whole 20-chunk answer at once) and reads its chat stream
through the shared provider client, `--concurrency` at a time, `--rounds` rounds of
`--streams` streams after a warm-up, printing this process's CPU per stream for each round.
No gRPC, no service: what one provider call costs the transport, its bounds and SSE decoding.

    .venv/bin/python -m scripts.tools.bench_transport
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time

from integration_api.providers.egress import EgressPolicy
from integration_api.providers.http_client import HttpClientSettings, create_http_client
from integration_api.providers.sse import open_event_stream
from integration_api.upstream.allow_list import parse_allow_list
from integration_api.upstream.timer import UpstreamTimer

_CHAT = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}


async def measure(arguments: argparse.Namespace) -> list[float]:
    upstream = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [sys.executable, "-m", "scripts.tools.bench_upstream"], stdout=subprocess.PIPE
    )
    try:
        assert upstream.stdout is not None
        port = json.loads(upstream.stdout.readline())["port"]
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        policy = EgressPolicy(allow=parse_allow_list(("127.0.0.0/8",)))
        async with create_http_client(HttpClientSettings(), policy) as http:

            async def one_stream() -> None:
                async with open_event_stream(
                    http,
                    url,
                    provider="openai-compatible",
                    timer=UpstreamTimer(),
                    headers={"Authorization": "Bearer sk-bench"},
                    json_body=_CHAT,
                ) as stream:
                    async for event in stream.events:
                        if event.data == "[DONE]":
                            break

            async def streams(count: int) -> None:
                share = count // arguments.concurrency

                async def worker() -> None:
                    for _ in range(share):
                        await one_stream()

                await asyncio.gather(*(worker() for _ in range(arguments.concurrency)))

            await streams(arguments.concurrency * 20)
            per_stream = []
            for _ in range(arguments.rounds):
                started = time.process_time()
                await streams(arguments.streams)
                per_stream.append((time.process_time() - started) * 1000 / arguments.streams)
            return per_stream
    finally:
        upstream.terminate()
        upstream.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--streams", type=int, default=1600)
    parser.add_argument("--rounds", type=int, default=5)
    figures = asyncio.run(measure(parser.parse_args()))
    print("CPU ms per stream:", " ".join(f"{value:.3f}" for value in figures))


if __name__ == "__main__":
    main()
