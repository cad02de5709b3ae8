"""The README's shell examples run verbatim against the service as a new user starts it.

The service runs as `./scripts/dev` runs it (`integration-api serve` with no configuration: an
embedded PostgreSQL and development secrets in its data directory), replayed servers stand in for
the local model server and for Anthropic, and every `sh` block of the README but the set-up one
runs in order in one shell, from the repository's directory, failing on the first error.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from aiohttp import web
from grpc_health.v1 import health_pb2

from tests.fakes.replay import ReplayServer
from tests.fakes.speech_servers import DeepgramServer
from tests.support.health_client import check_status

REPOSITORY = Path(__file__).resolve().parents[2]
SET_UP_COMMAND = "./scripts/dev"
_SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_examples() -> list[str]:
    blocks = _SH_BLOCK.findall((REPOSITORY / "README.md").read_text())
    return [block for block in blocks if SET_UP_COMMAND not in block]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _new_user_environment(data_dir: Path) -> dict[str, str]:
    """The machine's environment without any of the service's settings, as on a fresh shell."""
    ours = ("POSTGRES__", "REDIS__", "SECRET", "INTEGRATION_CRYPTO", "ENV", "EGRESS", "JWT_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    env.update(DATA_DIR=str(data_dir), PORT=str(_free_port()), METRICS_PORT="0")
    return env


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def _wait_serving(address: str, process: asyncio.subprocess.Process, log: Path) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        for _attempt in range(300):
            assert process.returncode is None, f"the service exited: {_tail(log)}"
            try:
                if await check_status(channel, timeout=1) == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the service never became SERVING")


async def _model_list(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [{"id": "my-model", "object": "model"}]})


@pytest.fixture
async def zero_config_service(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    env = _new_user_environment(tmp_path / "data")
    log = tmp_path / "service.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "integration_api.cli",
            "serve",
            env=env,
            cwd=REPOSITORY,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        await _wait_serving(f"127.0.0.1:{env['PORT']}", process, log)
        yield env
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 30)


async def test_every_readme_example_runs_verbatim(zero_config_service: dict[str, str]) -> None:
    examples = readme_examples()
    assert len(examples) >= 3, "the README's examples were not found"
    async with (
        ReplayServer("openai-compatible") as model_server,
        ReplayServer("anthropic") as anthropic,
        DeepgramServer() as deepgram,
    ):
        model_server.play("text.sse", "embeddings")
        anthropic.play("prompt_cache.sse")
        # The operations examples verify keys with the model server's cheapest call.
        model_server.fake.route("GET", "/v1/models", _model_list)
        script = "\n".join(["set -euo pipefail", *examples])
        env = {
            **zero_config_service,
            "MODEL_SERVER": model_server.base_url,
            "ANTHROPIC_URL": anthropic.base_url,
            "ANTHROPIC_API_KEY": "sk-ant-api03-readme-example",
            "DEEPGRAM_URL": deepgram.base_url,
            "DEEPGRAM_API_KEY": "dg-readme-example-0000",
        }
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
        paths = [request.path for request in model_server.requests]
        (claude_call,) = anthropic.requests
        speak = [session for session in deepgram.sessions if session.path == "/v1/speak"]
    assert paths == ["/v1/chat/completions", "/v1/embeddings", "/v1/models", "/v1/models"]
    assert claude_call.path == "/v1/messages"
    assert claude_call.headers["x-api-key"] == "sk-ant-api03-readme-example"
    sent = claude_call.json()
    assert sent["max_tokens"] == 1024
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert '"cachedInputTokens": 2400' in text
    (synthesis,) = speak
    assert synthesis.headers["authorization"] == "Token dg-readme-example-0000"
    assert synthesis.query["encoding"] == "mulaw" and synthesis.query["container"] == "none"
    assert '"audio"' in text and '"timeToFirstAudio"' in text
    assert '"finish"' in text and '"textDelta"' in text
    embedded = json.loads(text[text.rindex('{\n  "embeddings"') :].split("\n}\n")[0] + "\n}")
    assert len(embedded["embeddings"]) == 2
