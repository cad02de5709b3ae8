"""The one home of provider HTTP: the shared client, JSON calls, streams, and failure mapping.

Adapters never call aiohttp directly: they go through `send_json`, `get_json` and `open_stream`,
so every transport failure passes through `transport_error` (`transport_failures`) and every
error response through `error_from_response`. Neither ever copies an exception's text or a URL
into a message: aiohttp puts the request URL in its own, and some providers take the key in
the query.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from integration_api.errors import ServiceError, Unavailable
from integration_api.observability import tracing
from integration_api.providers.answer_json import RefusedNumber
from integration_api.providers.egress import is_provider_host
from integration_api.providers.http_client import ProviderClient, Timeouts, UpstreamAnswer
from integration_api.providers.http_errors import (
    ErrorClassifier,
    ErrorResponse,
    error_from_response,
    parse_body,
)
from integration_api.providers.transport_failures import transport_error, unusable_url
from integration_api.upstream.limits import (
    RESPONSE_TOO_LARGE,
    UpstreamLimits,
    answer_too_slow,
    too_large,
)
from integration_api.upstream.stream_errors import PROVIDER_BAD_RESPONSE

# aiohttp's refusal of a URL it cannot use (`InvalidURL`) is a `ClientError` too.
_TRANSPORT_FAILURES: tuple[type[BaseException], ...] = (aiohttp.ClientError, OSError, TimeoutError)


@dataclass(frozen=True)
class ProviderResponse:
    """A provider's 2xx answer with its body parsed as JSON (None when empty)."""

    status_code: int
    headers: CIMultiDictProxy[str]
    body: object


@dataclass(frozen=True)
class _Call:
    provider: str
    secrets: tuple[str, ...]
    classify_error: ErrorClassifier | None
    limits: UpstreamLimits
    url: URL
    timeouts: Timeouts

    def failure(self, error: BaseException) -> ServiceError:
        """`transport_error` for this call: its host, port and timeouts are known."""
        return transport_error(error, self.provider, self.url, self.timeouts.for_messages())


@dataclass(frozen=True)
class _Request:
    url: URL
    headers: Mapping[str, str]
    body: bytes | None


async def send_json(
    http: ProviderClient,
    method: str,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    json_body: object = None,
    content: bytes | None = None,
    secrets: Sequence[str] = (),
    classify_error: ErrorClassifier | None = None,
    request_timeout: Timeouts | None = None,
) -> ProviderResponse:
    """Send one request and return its JSON answer, or raise the typed error for its failure.

    Args:
        provider: the provider id, used in error messages.
        json_body: serialized as JSON; `content` instead sends bytes as they are (signed bodies).
        secrets: values of the credential in use, scrubbed from any provider text.
        classify_error: lets a provider module claim an error response before the generic table.
        request_timeout: replaces the client's timeouts for this request.
    """
    request, call = _build_request(
        http,
        url,
        provider,
        headers,
        params,
        json_body,
        content,
        secrets,
        classify_error,
        request_timeout,
    )
    give_up_at = time.monotonic() + call.limits.max_answer_seconds
    with tracing.provider_call(provider, method, request.url, json_body) as traced:
        # The body is read a piece at a time and never past its bound.
        response = await _send(http, method, request, call)
        traced.answered(response.status_code)
        try:
            if not response.is_success:
                raise _error_for(response, await _read_error_body(response, call), call)
            content = await _read_body(response, call, give_up_at)
        finally:
            await response.aclose()
    return ProviderResponse(response.status_code, response.headers, _answer_body(content, call))


def _answer_body(content: bytes, call: _Call) -> object:
    """A 2xx body as JSON; one holding `NaN`, `Infinity` or an oversized number is broken."""
    try:
        return parse_body(content, refuse=True)
    except RefusedNumber:
        raise Unavailable(
            f"{call.provider} answered with a number out of range",
            reason=PROVIDER_BAD_RESPONSE,
            provider=call.provider,
        ) from None
    except ValueError:
        raise Unavailable(
            f"{call.provider} answered with a body that is not JSON", provider=call.provider
        ) from None


async def get_json(
    http: ProviderClient,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    secrets: Sequence[str] = (),
    classify_error: ErrorClassifier | None = None,
    request_timeout: Timeouts | None = None,
) -> ProviderResponse:
    """`send_json` for a GET without a body."""
    return await send_json(
        http,
        "GET",
        url,
        provider=provider,
        headers=headers,
        params=params,
        secrets=secrets,
        classify_error=classify_error,
        request_timeout=request_timeout,
    )


@asynccontextmanager
async def open_stream(
    http: ProviderClient,
    method: str,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    json_body: object = None,
    content: bytes | None = None,
    secrets: Sequence[str] = (),
    classify_error: ErrorClassifier | None = None,
    request_timeout: Timeouts | None = None,
) -> AsyncIterator[UpstreamAnswer]:
    """Open a streaming response; an error status raises before the body is handed out.

    Transport failures while the caller reads the body are mapped too, and the connection is
    always released on exit.
    """
    request, call = _build_request(
        http,
        url,
        provider,
        headers,
        params,
        json_body,
        content,
        secrets,
        classify_error,
        request_timeout,
    )
    with tracing.provider_call(provider, method, request.url, json_body) as traced:
        response = await _send(http, method, request, call)
        traced.answered(response.status_code)
        try:
            if not response.is_success:
                raise _error_for(response, await _read_error_body(response, call), call)
            try:
                yield response
            except _TRANSPORT_FAILURES as failure:
                raise call.failure(failure) from None
        finally:
            await response.aclose()


def _build_request(
    http: ProviderClient,
    url: str,
    provider: str,
    headers: Mapping[str, str] | None,
    params: Mapping[str, str] | None,
    json_body: object,
    content: bytes | None,
    secrets: Sequence[str],
    classify_error: ErrorClassifier | None,
    request_timeout: Timeouts | None,
) -> tuple[_Request, _Call]:
    try:
        target = URL(url)
        if params:
            # Merged into the URL's own query: a name given in both takes the new value.
            target = target.update_query(params)
    except (ValueError, TypeError):  # yarl's refusal of a URL it cannot parse
        failure = unusable_url(provider)
    else:
        request_headers = dict(headers or {})
        body = content
        if json_body is not None:
            body = _json_bytes(json_body)
            request_headers.setdefault("Content-Type", "application/json")
        timeouts = request_timeout if request_timeout is not None else http.timeouts
        limits = http.upstream_limits
        call = _Call(provider, tuple(secrets), classify_error, limits, target, timeouts)
        return _Request(target, request_headers, body), call
    # Raised outside the handler so the original exception, which quotes the URL, is not chained.
    raise failure


def _json_bytes(value: object) -> bytes:
    """Compact UTF-8 JSON; NaN and infinities are refused (no provider parses them)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


async def _send(
    http: ProviderClient, method: str, request: _Request, call: _Call
) -> UpstreamAnswer:
    try:
        return await http.open(
            method,
            request.url,
            provider=call.provider,
            headers=request.headers,
            body=request.body,
            # None keeps the session's own timeouts (no new aiohttp timeout object per call).
            timeouts=None if call.timeouts is http.timeouts else call.timeouts,
        )
    except _TRANSPORT_FAILURES as error:
        failure = call.failure(error)
    raise failure


async def _read_body(response: UpstreamAnswer, call: _Call, give_up_at: float) -> bytes:
    """The whole (decoded) body, or the typed error for one too large or too slow."""
    limits = call.limits
    pieces: list[bytes] = []
    size = 0
    try:
        async for piece in response.aiter_bytes():
            size += len(piece)
            if size > limits.max_body_bytes:
                raise too_large(
                    call.provider, "an answer", limits.max_body_bytes, RESPONSE_TOO_LARGE
                )
            # Checked per piece: a body that trickles in below the read timeout still ends.
            if time.monotonic() > give_up_at:
                raise answer_too_slow(call.provider, limits.max_answer_seconds)
            pieces.append(piece)
        return b"".join(pieces)
    except _TRANSPORT_FAILURES as error:
        failure = call.failure(error)
    raise failure


async def _read_error_body(response: UpstreamAnswer, call: _Call) -> bytes:
    """The start of an error answer: enough for any provider's JSON error, bounded for the rest."""
    limit = call.limits.max_error_body_bytes
    collected = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            collected.extend(chunk)
            if len(collected) >= limit:
                break
        return bytes(collected[:limit])
    except _TRANSPORT_FAILURES as error:
        failure = call.failure(error)
    raise failure


def _error_for(response: UpstreamAnswer, content: bytes, call: _Call) -> ServiceError:
    # Only a provider's own host is trusted to explain itself: text from anywhere else (a
    # self-hosted server, an operator-listed gateway) could be an internal service's answer.
    host = response.url.raw_host or ""
    error_response = ErrorResponse(
        provider=call.provider,
        status_code=response.status_code,
        headers=response.headers,
        body=parse_body(content),
        secrets=call.secrets,
        quote_upstream=is_provider_host(call.provider, host),
    )
    return error_from_response(error_response, call.classify_error)
