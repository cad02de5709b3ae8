"""Runs the service for the benchmark: the real Application, with a chosen provider transport.

Settings come from the environment the benchmark sets (SECRET, INTEGRATION_CRYPTO_KEY) and the
database DSN from `--dsn`. `--transport` replaces the runtime's shared provider client with one
built on the named transport, so both can be measured in one run. Prints `{"port": N}`, then
serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import cast

from integration_api.config import Settings
from integration_api.observability.logging import configure_logging
from integration_api.providers.transport import (
    HttpClientSettings,
    TransportKind,
    create_http_client,
)
from integration_api.server.app import Application


async def serve(arguments: argparse.Namespace) -> None:
    configure_logging(arguments.log_level, "json")
    with tempfile.TemporaryDirectory(prefix="integration-api-bench-") as data_dir:
        settings = Settings(
            environment="benchmark",
            host="127.0.0.1",
            port=0,
            metrics_port=0,
            log_level=arguments.log_level,
            secret=os.environ["SECRET"],
            crypto_key=os.environ["INTEGRATION_CRYPTO_KEY"],
            data_dir=Path(data_dir),
            # The fake provider listens on loopback, which the egress policy reaches only listed.
            egress_allow=("127.0.0.0/8",),
        )
        application = Application(settings, database_dsn=arguments.dsn)
        await application.start()
        runtime = application.runtime
        assert runtime is not None
        transport = cast(TransportKind, arguments.transport)
        previous = runtime.http
        runtime.http = create_http_client(HttpClientSettings(transport=transport), runtime.egress)
        await previous.aclose()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        sys.stdout.write(json.dumps({"port": application.port}) + "\n")
        sys.stdout.flush()
        await stop.wait()
        await application.stop(grace_seconds=1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--transport", choices=["httpx", "aiohttp"], default="aiohttp")
    parser.add_argument("--log-level", default="info")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
