"""The one mapping from a request that got no HTTP answer to a typed error naming its cause.

| cause (`transport_failure`) | error            | message ("could not connect to P at H:N: …")  |
| --------------------------- | ---------------- | --------------------------------------------- |
| `connection_refused`        | Unavailable      | connection refused                            |
| `name_not_resolved`         | Unavailable      | the host name could not be resolved           |
| `tls_certificate_invalid`   | Unavailable      | TLS certificate verify failed: <why>          |
| `tls_hostname_mismatch`     | Unavailable      | the TLS certificate is not valid for H        |
| `tls_handshake_failed`      | Unavailable      | the TLS handshake failed (<OpenSSL's code>)   |
| `connect_timeout`           | Unavailable      | no connection within S s (connect timeout)    |
| `connect_failed`            | Unavailable      | (nothing more is known)                       |
| `read_timeout`              | DeadlineExceeded | "P at H:N did not answer in time (no data …)" |
| `connection_failed`         | Unavailable      | "the connection to P at H:N failed"           |

H:N is the host and port the request was addressed to, also in the ErrorInfo metadata (`host`,
`port`); never the path or the query, which may carry a key. No exception text is copied:
aiohttp quotes the whole URL in its own (<why> is OpenSSL's fixed description of the failed
check, "self-signed certificate"). The cause is read from the exception chain: aiohttp wraps
the socket or TLS error that says what happened.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import aiohttp
from yarl import URL

from integration_api.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.providers.egress import REFUSED_BY_POLICY
from integration_api.providers.egress_connect import refusal_in_chain
from integration_api.providers.pool import waited_for_connection

EGRESS_REFUSED = "EGRESS_REFUSED"
CONNECTION_POOL_FULL = "UPSTREAM_CONNECTION_POOL_FULL"
TRANSPORT_FAILURE = "transport_failure"

# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH.
_NAME_MISMATCH_CODES = frozenset({62, 64})
_DEFAULT_PORTS = {"https": 443, "wss": 443, "http": 80, "ws": 80}


def egress_refused(provider: str) -> FailedPrecondition:
    """The one answer for every refused destination, whatever does or does not listen there."""
    return FailedPrecondition(
        f"the request to {provider} was {REFUSED_BY_POLICY}",
        reason=EGRESS_REFUSED,
        provider=provider,
    )


def unusable_url(provider: str) -> InvalidArgument:
    """A URL that cannot be sent to (it does not parse, or names no http(s) host)."""
    return InvalidArgument(f"the URL configured for {provider} is not usable", provider=provider)


@dataclass(frozen=True)
class Destination:
    """Where a request was addressed: host and port only, never a path or a query."""

    host: str
    port: int

    @classmethod
    def of(cls, url: URL | str | None) -> Destination | None:
        if url is None:
            return None
        try:
            parsed = url if isinstance(url, URL) else URL(url)
        except (ValueError, TypeError):
            return None
        port = parsed.port or _DEFAULT_PORTS.get(parsed.scheme)
        if not parsed.host or port is None:
            return None
        return cls(parsed.host, port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def transport_error(
    failure: BaseException,
    provider: str,
    url: URL | str | None = None,
    timeouts: Mapping[str, float | None] | None = None,
) -> ServiceError:
    """The typed error for a request to `url` that got no HTTP answer; the only such mapping.

    Args:
        timeouts: the request's timeouts by name (`connect`, `read`, `pool`), quoted in messages.
    """
    if refusal_in_chain(failure):
        return egress_refused(provider)
    if isinstance(failure, aiohttp.InvalidURL):  # a scheme other than http(s), no host
        return unusable_url(provider)
    if waited_for_connection():
        return ResourceExhausted(
            f"timed out waiting for a connection to {provider}: too many calls to it are in flight",
            reason=CONNECTION_POOL_FULL,
            provider=provider,
        )
    destination = Destination.of(url)
    cause, explanation = _cause(failure, destination, timeouts or {})
    where = f"{provider} at {destination}" if destination else provider
    error: ServiceError
    if cause == "read_timeout":
        error = DeadlineExceeded(f"{where} {explanation}", provider=provider)
    elif cause == "connection_failed":
        error = Unavailable(f"the connection to {where} failed", provider=provider)
    else:
        text = f"could not connect to {where}" + (f": {explanation}" if explanation else "")
        error = Unavailable(text, provider=provider)
    error.metadata[TRANSPORT_FAILURE] = cause
    if destination:
        error.metadata["host"] = destination.host
        error.metadata["port"] = str(destination.port)
    return error


def _cause(
    failure: BaseException, destination: Destination | None, timeouts: Mapping[str, float | None]
) -> tuple[str, str]:
    """The cause's name and the words that explain it (see the table in the docstring)."""
    # aiohttp's own TLS errors subclass the ssl ones without their fields; they chain the real one.
    chain = [e for e in _chain(failure) if not isinstance(e, aiohttp.ClientSSLError)]
    primary = failure
    certificate = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
    if certificate is not None:
        return _certificate_cause(certificate, destination)
    if isinstance(primary, aiohttp.ConnectionTimeoutError):
        limit = _seconds(timeouts, "connect", " within {} s")
        return "connect_timeout", f"no connection{limit} (connect timeout)"
    if isinstance(primary, TimeoutError):
        return "read_timeout", "did not answer in time" + _seconds(
            timeouts, "read", " (no data for {} s)"
        )
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "name_not_resolved", "the host name could not be resolved"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection_refused", "connection refused"
    if not isinstance(primary, aiohttp.ClientConnectorError):
        return "connection_failed", ""
    handshake = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    if handshake is not None:
        # OpenSSL's short code for what went wrong (WRONG_VERSION_NUMBER), never a URL.
        code = handshake.reason or "no reason given"
        return "tls_handshake_failed", f"the TLS handshake failed ({code})"
    return "connect_failed", ""


def _certificate_cause(
    error: ssl.SSLCertVerificationError, destination: Destination | None
) -> tuple[str, str]:
    if error.verify_code in _NAME_MISMATCH_CODES:
        host = destination.host if destination else "the host"
        return "tls_hostname_mismatch", f"the TLS certificate is not valid for {host}"
    # OpenSSL's fixed description of the check that failed ("self-signed certificate").
    reason = error.verify_message or "unknown reason"
    return "tls_certificate_invalid", f"TLS certificate verify failed: {reason}"


def _seconds(timeouts: Mapping[str, float | None], which: str, template: str) -> str:
    """`template` filled with the `which` timeout in seconds, or "" when it is not known."""
    value = timeouts.get(which)
    return template.format(f"{value:g}") if isinstance(value, (int, float)) else ""


def _chain(failure: BaseException) -> Iterator[BaseException]:
    """`failure` and every exception it was raised from or while handling, once each."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [failure]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend((current.__cause__, current.__context__))
