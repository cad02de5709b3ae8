"""The egress policy where connections are made: per request, and on every resolved address.

- `EgressGuard` wraps the client's transport: a request must say which provider it is for
  (`EGRESS_PROVIDER_EXTENSION`, set by the transport module) and go to a host that provider may
  use. IP-literal hosts are fully judged here: aiohttp does not resolve them.
- `PolicyResolver` (aiohttp) and `PolicyNetworkBackend` (httpcore) resolve host names through
  the policy, drop refused addresses and connect only to the checked ones, so a name that
  resolves to 127.0.0.1, or that changes its answer after validation, reaches nothing refused.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable

import httpcore
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult

from integration_api.providers.egress import EgressPolicy, EgressRefused

EGRESS_PROVIDER_EXTENSION = "integration_api.egress_provider"


class EgressGuard(httpx.AsyncBaseTransport):
    """Refuses, before any connection, a request its provider's key may not be sent with."""

    def __init__(self, inner: httpx.AsyncBaseTransport, policy: EgressPolicy) -> None:
        self._inner = inner
        self._policy = policy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        provider = request.extensions.get(EGRESS_PROVIDER_EXTENSION)
        if not isinstance(provider, str):
            raise EgressRefused()
        host = request.url.raw_host.decode("ascii")
        if self._policy.refusal_for_host(provider, host) is not None:
            raise EgressRefused()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class PolicyResolver(AbstractResolver):
    """aiohttp's resolver, answering only with the addresses the policy allows."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self._policy.allowed_addresses(host, port)
        results = [_result(host, address, port) for address in addresses]
        matching = [item for item in results if family in (socket.AF_UNSPEC, item["family"])]
        if not matching:
            raise EgressRefused()
        return matching

    async def close(self) -> None:
        return None


def _result(host: str, address: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return ResolveResult(
        hostname=host,
        host=address,
        port=port,
        family=family,
        proto=0,
        flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
    )


class PolicyNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network layer, connecting by checked address (TLS still names the host)."""

    def __init__(
        self, policy: EgressPolicy, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._policy.allowed_addresses(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout() from None
        except EgressRefused:
            raise
        except OSError as error:
            raise httpcore.ConnectError() from error
        failure: Exception = httpcore.ConnectError()
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressRefused()

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def refusal_in_chain(failure: BaseException) -> bool:
    """Whether an `EgressRefused` is the failure or anywhere among its causes."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [failure]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        if isinstance(current, EgressRefused):
            return True
        seen.add(id(current))
        pending.extend((current.__cause__, current.__context__))
    return False
