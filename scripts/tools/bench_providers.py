"""The providers the benchmark can stream chat from: how each is called directly and stored.

Each provider's fake lives in `bench_upstream.py` on the same port; the direct client speaks
the provider's own wire format, the service is reached through a credential of that provider.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass


def _openai_text_chunks(line: bytes) -> int:
    return int(
        line.startswith(b"data: {") and b'"content":"' in line and b'"content":""' not in line
    )


def _anthropic_text_chunks(line: bytes) -> int:
    return int(line.startswith(b"data: {") and b'"text_delta"' in line)


# The `:event-type` header of a text frame (no newline byte in it, so never cut by one).
_BEDROCK_TEXT_FRAME = b"\x0b:event-type\x07\x00\x11contentBlockDelta"


def _bedrock_text_chunks(line: bytes) -> int:
    return line.count(_BEDROCK_TEXT_FRAME)


BEDROCK_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def _gemini_text_chunks(line: bytes) -> int:
    return int(line.startswith(b"data: {") and b'"text":" ' in line)


def _cohere_text_chunks(line: bytes) -> int:
    return int(line.startswith(b"data: {") and b'"content-delta"' in line)


@dataclass(frozen=True)
class BenchProvider:
    """One provider as the benchmark calls it."""

    name: str
    # Appended to the fake's address: the credential's base_url.
    base_path: str
    default_model: str
    # Appended to base_url for a direct chat call.
    chat_path: str
    headers: dict[str, str]
    chat_body: dict[str, object]
    text_chunks_in: Callable[[bytes], int]
    embeds: bool = False
    region: str = ""
    # Stored as AWS keys (signed with SigV4) instead of an API key.
    aws_keys: bool = False

    def base_url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}{self.base_path}"

    def encoded_chat_body(self) -> bytes:
        return json.dumps(self.chat_body).encode()


PROVIDERS = {
    "openai": BenchProvider(
        name="openai",
        base_path="/v1",
        default_model="gpt-4o-mini",
        chat_path="/chat/completions",
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-bench"},
        chat_body={
            "model": "gpt-4o-mini",
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "Hi"}],
        },
        text_chunks_in=_openai_text_chunks,
        embeds=True,
    ),
    "anthropic": BenchProvider(
        name="anthropic",
        base_path="",
        default_model="claude-sonnet-4-5",
        chat_path="/v1/messages",
        headers={
            "Content-Type": "application/json",
            "x-api-key": "sk-ant-bench",
            "anthropic-version": "2023-06-01",
        },
        chat_body={
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "stream": True,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        },
        text_chunks_in=_anthropic_text_chunks,
    ),
    "bedrock": BenchProvider(
        name="bedrock",
        base_path="",
        default_model=BEDROCK_MODEL,
        chat_path=f"/model/{BEDROCK_MODEL}/converse-stream",
        # The fake checks no signature; the service signs every call all the same.
        headers={"Content-Type": "application/json", "Authorization": "Bearer bench"},
        chat_body={
            "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
            "inferenceConfig": {"maxTokens": 4096},
        },
        text_chunks_in=_bedrock_text_chunks,
        region="us-east-1",
        aws_keys=True,
    ),
    "gemini": BenchProvider(
        name="gemini",
        base_path="",
        default_model="gemini-2.5-flash",
        chat_path="/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        headers={"Content-Type": "application/json", "x-goog-api-key": "AIza-bench"},
        chat_body={"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
        text_chunks_in=_gemini_text_chunks,
    ),
    "cohere": BenchProvider(
        name="cohere",
        base_path="",
        default_model="command-a-03-2025",
        chat_path="/v2/chat",
        headers={"Content-Type": "application/json", "Authorization": "Bearer co-bench"},
        chat_body={
            "model": "command-a-03-2025",
            "stream": True,
            "messages": [{"role": "user", "content": "Hi"}],
        },
        text_chunks_in=_cohere_text_chunks,
    ),
}
