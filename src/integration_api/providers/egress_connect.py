"""The egress policy where connections are made: on every address a host name resolves to.

`PolicyResolver` is the resolver of the shared aiohttp session: it resolves host names through
the policy, drops refused addresses and answers only with the checked ones, so a name that
resolves to 127.0.0.1, or that changes its answer after validation, reaches nothing refused.
The per-request check (the request's provider may use the URL's host) is `ProviderClient.open`;
IP-literal hosts are fully judged there, as aiohttp does not resolve them.
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult

from integration_api.providers.egress import EgressPolicy, EgressRefused


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
