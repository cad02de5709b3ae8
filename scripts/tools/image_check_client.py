"""The image check's caller: a credential, a chat stream cut by SIGTERM, and the metrics.

Against the service in the container: stores an `openai-compatible` credential whose base URL
is the demo provider (paced, so its answer streams for a few seconds), opens a chat, and once
the first text arrives scrapes `/metrics` and runs the stop command (which sends the container
SIGTERM). The stream must then still deliver the whole answer, end with its finish, and close
with status OK.

Usage: image_check_client.py --address HOST:PORT --provider-url URL --metrics-url URL
       -- STOP_COMMAND...; the caller's token comes from IMAGE_CHECK_TOKEN.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import urllib.request

import grpc
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    ChatChunk,
    ChatRequest,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    Message,
    Role,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, LlmServiceStub

from scripts.tools.demo_provider_wire import ANSWER

_METRIC = "integration_api_grpc_requests_total"


class CheckFailed(Exception):
    """The service did not do what the deployed image must."""


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        text: str = response.read().decode()
    lines = [line for line in text.splitlines() if line.startswith(_METRIC)]
    if not any("CreateCredential" in line for line in lines):
        raise CheckFailed(f"{url} shows no {_METRIC} sample for CreateCredential")
    return text


Auth = tuple[tuple[str, str]]


async def store_credential(channel: grpc.aio.Channel, auth: Auth, url: str) -> str:
    reply = await CredentialServiceStub(channel).create_credential(
        CreateCredentialRequest(
            provider="openai-compatible",
            name="image-check",
            secret=CredentialSecret(api_key=ApiKeySecret(key="image-check-key-0001")),
            config=CredentialConfig(base_url=url, default_model="image-check-model"),
            skip_verification=True,
        ),
        metadata=auth,
        timeout=10,
    )
    if reply.credential is None:
        raise CheckFailed("CreateCredential answered without a credential")
    return reply.credential.id


async def chat_through_stop(arguments: argparse.Namespace) -> str:
    auth = (("authorization", f"Bearer {os.environ['IMAGE_CHECK_TOKEN']}"),)
    async with grpc.aio.insecure_channel(arguments.address) as channel:
        credential_id = await store_credential(channel, auth, arguments.provider_url)
        started = time.monotonic()
        call = LlmServiceStub(channel).chat(
            ChatRequest(credential_id=credential_id, messages=[Message(role=Role.USER, text="Hi")]),
            metadata=auth,
            timeout=60,
        )
        chunks: list[ChatChunk] = []
        while isinstance(chunk := await call.read(), ChatChunk):
            chunks.append(chunk)
            if len(chunks) == 1:
                metrics = await asyncio.to_thread(scrape, arguments.metrics_url)
                await asyncio.to_thread(
                    subprocess.run, arguments.stop, check=True, stdout=subprocess.DEVNULL
                )
        code = await call.code()
    seconds = time.monotonic() - started
    deltas = [chunk.text_delta.text for chunk in chunks if chunk.text_delta is not None]
    if code != grpc.StatusCode.OK or not chunks or chunks[-1].finish is None:
        raise CheckFailed(f"the stream ended {code.name} after {len(chunks)} chunks, no finish")
    if "".join(deltas) != ANSWER:
        raise CheckFailed(f"the stream ended OK with {''.join(deltas)!r}, not {ANSWER!r}")
    return (
        f"chat: the whole answer in {len(deltas)} pieces and a finish, status OK, {seconds:.1f} s"
        f" with SIGTERM sent after the first; /metrics: {len(metrics.splitlines())} lines"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--provider-url", required=True)
    parser.add_argument("--metrics-url", required=True)
    parser.add_argument("stop", nargs="+", help="the command that sends the container SIGTERM")
    arguments = parser.parse_args()
    try:
        print(asyncio.run(chat_through_stop(arguments)))
    except (CheckFailed, grpc.aio.AioRpcError, OSError, subprocess.CalledProcessError) as error:
        print(f"image check failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
