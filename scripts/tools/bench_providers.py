"""The providers the benchmark can stream chat from: how each is called directly and stored.

Each provider's fake lives in `bench_upstream.py` on the same port; the direct client speaks
the provider's own wire format, the service is reached through a credential of that provider.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass


def _openai_text_chunk(line: bytes) -> bool:
    return line.startswith(b"data: {") and b'"content":"' in line and b'"content":""' not in line


def _anthropic_text_chunk(line: bytes) -> bool:
    return line.startswith(b"data: {") and b'"text_delta"' in line


def _gemini_text_chunk(line: bytes) -> bool:
    return line.startswith(b"data: {") and b'"text":" ' in line


def _cohere_text_chunk(line: bytes) -> bool:
    return line.startswith(b"data: {") and b'"content-delta"' in line


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
    is_text_chunk: Callable[[bytes], bool]
    embeds: bool = False

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
        is_text_chunk=_openai_text_chunk,
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
        is_text_chunk=_anthropic_text_chunk,
    ),
    "gemini": BenchProvider(
        name="gemini",
        base_path="",
        default_model="gemini-2.5-flash",
        chat_path="/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        headers={"Content-Type": "application/json", "x-goog-api-key": "AIza-bench"},
        chat_body={"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
        is_text_chunk=_gemini_text_chunk,
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
        is_text_chunk=_cohere_text_chunk,
    ),
}
