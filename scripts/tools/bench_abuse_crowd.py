"""The abusers of `scripts/bench --abuse`, in a process of their own.

The flood and the crowds cost CPU on the client side too; run in the benchmark's own event loop
they would delay the first tenant's client and count as the service's time. This process starts
every abuser, prints `{"ready": true}` once they run, and on a line (or EOF) on stdin prints
what became of each as one JSON line, then closes them and exits.

The second tenant's token comes in `BENCH_SECOND_TOKEN`, its ChatRequest (hex) in `--request`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

import grpc.aio

from scripts.tools.bench_abuse_load import (
    CallbackFlood,
    SlowHeaders,
    TenantAtCap,
    WatchCrowd,
)
from scripts.tools.bench_load import ServiceClient

CALLBACK_PATH = "/oauth/callback/google"


async def crowd(arguments: argparse.Namespace) -> None:
    address = f"127.0.0.1:{arguments.port}"
    channel = grpc.aio.insecure_channel(address)
    metadata = (("authorization", f"Bearer {os.environ['BENCH_SECOND_TOKEN']}"),)
    second = TenantAtCap(
        ServiceClient((channel,), metadata, bytes.fromhex(arguments.request), b""),
        arguments.second_callers,
    )
    watches = WatchCrowd(address, arguments.watch_streams)
    slow = SlowHeaders(arguments.callback_port, CALLBACK_PATH, arguments.slow_connections)
    url = f"http://127.0.0.1:{arguments.callback_port}{CALLBACK_PATH}"
    flood = CallbackFlood(url, arguments.flood_concurrency, arguments.flood_rate)
    stop = asyncio.Event()
    await watches.open()
    await slow.open()
    loop = asyncio.get_running_loop()
    running = [loop.create_task(flood.run(stop)), loop.create_task(second.run(stop))]
    started = time.perf_counter()
    await asyncio.sleep(1.0)  # the second tenant reaches its cap
    print(json.dumps({"ready": True}), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    tally = {
        "seconds": time.perf_counter() - started,
        "watches": [watches.count, watches.opened, watches.still_open()],
        "watch_refusals": dict(watches.refused),
        "slow": [slow.count, slow.opened, slow.still_open()],
        "slow_closed_after": slow.closed_after,
        "flood": dict(flood.statuses),
        "second": [second.completed, second.refused, dict(second.failed)],
    }
    print(json.dumps(tally), flush=True)
    stop.set()
    await asyncio.gather(*running)
    await watches.close()
    await slow.close()
    await channel.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="the service's gRPC port")
    parser.add_argument("--callback-port", type=int, required=True)
    parser.add_argument("--request", required=True, help="the second tenant's ChatRequest, hex")
    parser.add_argument("--second-callers", type=int, required=True)
    parser.add_argument("--watch-streams", type=int, required=True)
    parser.add_argument("--slow-connections", type=int, required=True)
    parser.add_argument("--flood-concurrency", type=int, required=True)
    parser.add_argument("--flood-rate", type=float, required=True, help="per second; 0: no pause")
    asyncio.run(crowd(parser.parse_args()))


if __name__ == "__main__":
    main()
