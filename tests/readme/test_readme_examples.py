"""The README's shell blocks run verbatim, as a new user runs them, offline.

Every ```sh block of the README runs exactly as written, in the README's order, from the
repository's directory:
- a block that starts a server and keeps it running (`./scripts/dev`, `./scripts/demo-provider`)
  runs in a shell of its own, as a user runs it in a terminal of its own, until the test ends;
  the test waits for the service to be SERVING and for the demo provider to listen;
- `./scripts/test` is the command that runs this very test (CI's `.ci/run` runs it on a fresh
  clone), so the test checks that CI runs it instead of running it again inside itself;
- every other block runs in order in one shell (`set -euo pipefail`), failing on the first error.

The environment is a new user's: none of the service's or the providers' variables are set but
the ports (`PORT`, `DEMO_PROVIDER_PORT`, `METRICS_PORT=0`) and the data directory, chosen so that
runs side by side do not collide. Blocks fenced `text` (a cluster, a client library, an OAuth
client) are not shell and are not run.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import signal
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from scripts.tools.demo_provider_speak import SECONDS_PER_CHARACTER
from scripts.tools.demo_provider_wire import ANSWER
from tests.support.health_client import check_status

REPOSITORY = Path(__file__).resolve().parents[2]
SERVICE_COMMAND = "./scripts/dev"
DEMO_PROVIDER_COMMAND = "./scripts/demo-provider"
TEST_COMMAND = "./scripts/test"
_SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
Process = asyncio.subprocess.Process


def sh_blocks() -> list[str]:
    return _SH_BLOCK.findall((REPOSITORY / "README.md").read_text())


def command_of(block: str) -> str:
    """A one-command block's command without its comment, or '' for a longer block."""
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    commands = [line for line in lines if line]
    return commands[0] if len(commands) == 1 else ""


@dataclass(frozen=True)
class Readme:
    service: str
    demo_provider: str
    examples: list[str]


def readme() -> Readme:
    blocks = sh_blocks()
    by_command = {command_of(block): block for block in blocks}
    assert {SERVICE_COMMAND, DEMO_PROVIDER_COMMAND, TEST_COMMAND} <= by_command.keys()
    servers_and_tests = (SERVICE_COMMAND, DEMO_PROVIDER_COMMAND, TEST_COMMAND)
    examples = [block for block in blocks if command_of(block) not in servers_and_tests]
    return Readme(by_command[SERVICE_COMMAND], by_command[DEMO_PROVIDER_COMMAND], examples)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _new_user_environment(data_dir: Path) -> dict[str, str]:
    """The machine's environment without any of the service's or providers' settings."""
    ours = (
        *("POSTGRES__", "REDIS__", "SECRET", "INTEGRATION_CRYPTO", "ENV", "EGRESS", "JWT_"),
        *("ANTHROPIC_", "DEEPGRAM_", "MODEL_SERVER", "DEMO", "API", "TOKEN", "OPERATOR"),
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    env.update(
        DATA_DIR=str(data_dir),
        PORT=str(_free_port()),
        METRICS_PORT="0",
        DEMO_PROVIDER_PORT=str(_free_port()),
    )
    return env


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


@asynccontextmanager
async def _terminal(block: str, env: dict[str, str], log: Path) -> AsyncIterator[Process]:
    """A block run in a shell of its own, as in a second terminal, stopped at the end."""
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            block,
            env=env,
            cwd=REPOSITORY,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)


async def _wait_serving(address: str, process: Process, log: Path) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        for _attempt in range(600):
            assert process.returncode is None, f"the service exited: {_tail(log)}"
            with suppress(grpc.aio.AioRpcError):
                if await check_status(channel, timeout=1) == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"the service never became SERVING: {_tail(log)}")


async def _wait_listening(port: int, process: Process, log: Path) -> None:
    for _attempt in range(300):
        assert process.returncode is None, f"the demo provider exited: {_tail(log)}"
        with suppress(OSError):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the demo provider never listened: {_tail(log)}")


@pytest.fixture
async def new_user() -> AsyncIterator[tuple[dict[str, str], Path]]:
    """The service (`./scripts/dev`) and the demo provider running as the README starts them."""
    # Not pytest's tmp_path: a concurrent pytest session may prune its directory while the
    # embedded PostgreSQL still lives there.
    with tempfile.TemporaryDirectory(prefix="readme-") as directory:
        async with _new_user_servers(Path(directory)) as running:
            yield running


@asynccontextmanager
async def _new_user_servers(directory: Path) -> AsyncIterator[tuple[dict[str, str], Path]]:
    env = _new_user_environment(directory / "data")
    blocks = readme()
    service_log, demo_log = directory / "service.log", directory / "demo-provider.log"
    async with (
        _terminal(blocks.service, env, service_log) as service,
        _terminal(blocks.demo_provider, env, demo_log) as demo_provider,
    ):
        await _wait_listening(int(env["DEMO_PROVIDER_PORT"]), demo_provider, demo_log)
        await _wait_serving(f"127.0.0.1:{env['PORT']}", service, service_log)
        yield env, demo_log


def _json_values(text: str) -> list[object]:
    """Every JSON document buf curl printed, in order (it prints them one after another)."""
    decoder, values, position = json.JSONDecoder(), [], 0
    while (start := text.find("{", position)) != -1:
        try:
            value, position = decoder.raw_decode(text, start)
        except ValueError:
            position = start + 1
            continue
        values.append(value)
    return values


async def test_every_readme_shell_block_runs_verbatim_against_the_demo_provider(
    new_user: tuple[dict[str, str], Path],
) -> None:
    env, demo_log = new_user
    examples = readme().examples
    assert len(examples) >= 5, "the README's examples were not found"
    script = "\n".join(["set -euo pipefail", *examples])
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        script,
        env=env,
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    text = output.decode()
    assert process.returncode == 0, text
    _assert_each_example_reached_the_demo_provider(demo_log.read_text().splitlines()[1:])
    _assert_the_answers_were_read(text)


def _assert_each_example_reached_the_demo_provider(requests: list[str]) -> None:
    assert {"POST /v1/chat/completions 200", "POST /v1/embeddings 200"} <= set(requests)
    assert {"POST /v1/messages 200", "POST /v1/speak 200", "GET /v1/models 200"} <= set(requests)
    assert "GET /v1/listen 101" in requests
    calls = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls"
    placed = [line for line in requests if line.startswith(f"POST {calls}.json ")]
    assert placed == [f"POST {calls}.json 201"], requests
    # The call was read, then ended (a form POST to the call itself).
    on_the_call = [line.split(" ", 1)[0] for line in requests if f"{calls}/" in line]
    assert on_the_call == ["GET", "POST"], requests
    assert all(line.endswith((" 200", " 201", " 101")) for line in requests), requests


def _assert_the_answers_were_read(text: str) -> None:
    values = [value for value in _json_values(text) if isinstance(value, dict)]
    deltas = "".join(str(value.get("textDelta", {}).get("text", "")) for value in values)
    # The OpenAI-compatible chat, Claude's, and the chat through a route.
    assert deltas.count(ANSWER) == 3, text
    (routed,) = [v["finish"]["route"] for v in values if "route" in v.get("finish", {})]
    assert routed["answered"] and routed["answeredBy"] == 1
    outcomes = [attempt["outcome"] for attempt in routed["attempts"]]
    assert outcomes == ["ATTEMPT_OUTCOME_UNREACHABLE", "ATTEMPT_OUTCOME_ANSWERED"], routed
    (embedded,) = [value for value in values if "embeddings" in value]
    assert len(embedded["embeddings"]) == 2
    # Cache reads are reported only when the system prompt's breakpoint reached Anthropic.
    assert any(value.get("usage", {}).get("cachedInputTokens") for value in values), text
    audio = b"".join(base64.b64decode(v["audio"]["data"]) for v in values if "audio" in v)
    # μ-law at 8000 Hz, raw: one byte per sample and no WAV header; the synthesis through a
    # route adds its own audio, from the one target that answered.
    spoken = ("Hello from the phone line.", "Hello through a route.")
    assert len(audio) == sum(round(len(t) * SECONDS_PER_CHARACTER * 8000) for t in spoken)
    assert any("timeToFirstAudio" in str(value.get("done", "")) for value in values), text
    (heard,) = [v["transcript"] for v in values if v.get("transcript", {}).get("isFinal")]
    assert heard["text"] == ANSWER and heard["endOfUtterance"]
    (transcribed,) = [value["metadata"] for value in values if "metadata" in value]
    assert transcribed["audioBytes"] == "8000"
    # The placed call, read in progress and then hung up (PlaceCall's answer is captured).
    states = [value["call"]["status"] for value in values if "call" in value]
    assert states == ["CALL_STATUS_IN_PROGRESS", "CALL_STATUS_COMPLETED"], text
    (listed,) = [value["routes"] for value in values if "routes" in value]
    assert [route["name"] for route in listed] == ["chat"]
    assert len(listed[0]["targets"]) == 2 and listed[0]["firstTokenTimeout"] == "1.500s"
    # "by name, with version": a new route's version is 1 (int64 is a string in JSON).
    assert listed[0]["version"] == "1"
    (routed,) = [v["done"]["route"] for v in values if "route" in v.get("done", {})]
    outcomes = [attempt["outcome"] for attempt in routed["attempts"]]
    assert outcomes == ["ATTEMPT_OUTCOME_UNREACHABLE", "ATTEMPT_OUTCOME_ANSWERED"], routed
    assert routed["answeredBy"] == 1


def test_the_test_command_of_the_readme_is_what_ci_runs() -> None:
    ci = (REPOSITORY / ".ci" / "run").read_text()
    assert re.search(rf"^exec {re.escape(TEST_COMMAND)}\b", ci, re.MULTILINE), ci
