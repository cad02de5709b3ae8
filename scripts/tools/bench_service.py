"""Runs the service for the benchmark: the real Application, as `serve` runs it.

Settings come from the environment the benchmark sets (SECRET, INTEGRATION_CRYPTO_KEY) and the
database DSN from `--dsn`. With `--workers N` above 1 it runs the fleet of `serve --workers N`
instead and announces the workers' process ids, whose CPU and memory the benchmark then
measures. Prints `{"port": N, "pids": [...]}`, then serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from integration_api.assembly.app import Application
from integration_api.config import OAuthSettings, RedisSettings, Settings
from integration_api.fleet.ports import SharedPorts
from integration_api.fleet.supervisor import Supervisor
from integration_api.observability.logging import configure_logging
from integration_api.server.heap import settle_heap
from scripts.tools.bench_stalls import SlowCallbackLog, StallRecorder


class GcRecorder:
    """Garbage-collection pauses (`--gc-report`), from `gc.callbacks`: a pause of the one event
    loop is a pause of every stream it carries."""

    def __init__(self) -> None:
        self._started = 0.0
        self.reset()

    def reset(self) -> None:
        """Forget what start-up collected (its own `gc.collect()` is not a pause under load)."""
        self.collections = [0, 0, 0]
        self.longest_ms = [0.0, 0.0, 0.0]
        self.total_ms = [0.0, 0.0, 0.0]

    def install(self) -> None:
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info["generation"]
        elapsed = (time.perf_counter() - self._started) * 1000
        self.collections[generation] += 1
        self.total_ms[generation] += elapsed
        self.longest_ms[generation] = max(self.longest_ms[generation], elapsed)

    def write(self, path: Path) -> None:
        report = {
            "collections": self.collections,
            "longest_ms": [round(value, 3) for value in self.longest_ms],
            "total_ms": [round(value, 1) for value in self.total_ms],
            "frozen_objects": gc.get_freeze_count(),
        }
        path.write_text(json.dumps(report) + "\n")


def _settings(arguments: argparse.Namespace, data_dir: str) -> Settings:
    settings = _base_settings(arguments, data_dir)
    if arguments.max_calls_per_tenant:
        upstream = replace(settings.upstream, max_calls_per_tenant=arguments.max_calls_per_tenant)
        settings = replace(settings, upstream=upstream)
    if arguments.redis_prefix:
        # The local Redis, for what the fleet shares (the cache, caps, webhook replays).
        settings = replace(
            settings, redis=RedisSettings(host="127.0.0.1", key_prefix=arguments.redis_prefix)
        )
    if arguments.oauth_callback:
        # The browser callback on a port of its own (the abuse benchmark floods it).
        oauth = OAuthSettings(callback_url="http://127.0.0.1/oauth/callback", callback_port=0)
        settings = replace(settings, oauth=oauth)
    return settings


def _base_settings(arguments: argparse.Namespace, data_dir: str) -> Settings:
    return Settings(
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


def _announce(port: int, pids: list[int], callback_port: int = 0) -> None:
    announced = {"port": port, "pids": pids, "callback_port": callback_port}
    sys.stdout.write(json.dumps(announced) + "\n")
    sys.stdout.flush()


async def _until_serving(port: int) -> None:
    """Waits until every worker answers: each listens on the shared port once it serves."""
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return


async def serve_fleet(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="integration-api-bench-") as data_dir:
        ports = SharedPorts.reserve(_settings(arguments, data_dir))
        try:
            supervisor = Supervisor(ports.worker_settings, arguments.workers, arguments.dsn)
            running = asyncio.get_running_loop().create_task(supervisor.run())
            await _until_serving(ports.port)
            # The first worker to serve answers the probe; the others start alongside it and
            # are given the moment one start takes before the load begins.
            await asyncio.sleep(2.0)
            _announce(ports.port, supervisor.pids)
            await running
        finally:
            ports.close()


async def serve(arguments: argparse.Namespace) -> None:
    # As `serve` writes its logs: from a thread of their own.
    configure_logging(arguments.log_level, "json", background=True)
    recorder = GcRecorder()
    if arguments.gc_report:
        recorder.install()
    if arguments.workers > 1:
        await serve_fleet(arguments)
        return
    with tempfile.TemporaryDirectory(prefix="integration-api-bench-") as data_dir:
        settings = _settings(arguments, data_dir)
        application = Application(settings, database_dsn=arguments.dsn)
        await application.start()
        if arguments.settle_heap:
            settle_heap()
        recorder.reset()
        if arguments.stall_file:
            StallRecorder().install(Path(arguments.stall_file))
        slow_callbacks = SlowCallbackLog(arguments.slow_callback_ms / 1000)
        if arguments.slow_callbacks:
            slow_callbacks.install()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        shim = application.callback_shim
        _announce(application.port, [os.getpid()], shim.port if shim is not None else 0)
        await stop.wait()
        await application.stop(grace_seconds=1.0)
    if arguments.slow_callbacks:
        slow_callbacks.write(Path(arguments.slow_callbacks))
    if arguments.gc_report:
        recorder.write(Path(arguments.gc_report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--no-settle-heap",
        dest="settle_heap",
        action="store_false",
        help="leave the start-up heap unfrozen (as before `serve` froze it)",
    )
    parser.add_argument("--gc-report", help="write garbage-collection pauses here on stop")
    parser.add_argument(
        "--stall-file", help="probe loop lag and GC pauses; SIGUSR1 writes them here"
    )
    parser.add_argument("--slow-callbacks", help="log loop callbacks slower than the threshold")
    parser.add_argument("--slow-callback-ms", type=float, default=5.0)
    parser.add_argument("--max-calls-per-tenant", type=int, default=0, help="0: the default")
    parser.add_argument(
        "--oauth-callback", action="store_true", help="serve the OAuth callback on a free port"
    )
    parser.add_argument("--redis-prefix", default="", help="use the local Redis, keys under this")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
