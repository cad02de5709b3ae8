"""Egress in tests: provider host names that lead to the local fakes, and a recording canary.

Tests that need a provider's own host name (whose error text is quoted, which needs no
`EGRESS_ALLOW` entry) address a fake as `http://api.openai.com:{port}`; the resolver here
answers 127.0.0.1 for every provider's own host and nothing else, so no test ever leaves the
machine.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from integration_api.providers.egress import is_provider_host
from integration_api.providers.registry import PROVIDER_HOSTS


async def resolve_provider_hosts_to_loopback(host: str, port: int) -> list[str]:
    if any(is_provider_host(provider, host) for provider in PROVIDER_HOSTS):
        return ["127.0.0.1"]
    raise socket.gaierror(socket.EAI_NONAME, "unknown host")


def at_host(server_url: str, host: str) -> str:
    """`server_url` (on 127.0.0.1) addressed by `host` instead."""
    return server_url.replace("127.0.0.1", host, 1)


@dataclass
class Canary:
    """A TCP listener on loopback that counts the connections it is offered."""

    port: int = 0
    connections: int = 0
    _server: asyncio.Server | None = field(default=None, repr=False)

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{"data": []}\n')
        await writer.drain()
        writer.close()


@asynccontextmanager
async def canary() -> AsyncIterator[Canary]:
    """A loopback listener that answers like an API and records every connection."""
    found = Canary()
    server = await asyncio.start_server(found._accept, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    async with server:
        yield found
