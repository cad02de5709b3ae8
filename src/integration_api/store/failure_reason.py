"""One safe line saying why a store (PostgreSQL, Redis) could not be used, for logs and readiness.

The line names where (`host:port`) and the cause an operator can act on: connection refused,
host name not resolved, timed out, the TLS failure ("certificate verify failed: Hostname
mismatch, …"), or the server's own message (wrong password, no pg_hba.conf entry). Drivers wrap
the cause (redis-py raises a ConnectionError whose context is the ssl error), so the chain is
searched for it. Passwords never appear: the configured ones are masked wherever they occur, and
so are credentials inside any URL.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterable, Iterator

MAX_REASON_CHARACTERS = 300
_MASK = "***"
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
# OpenSSL's decoration: "[SSL: CODE] text (_ssl.c:1006)".
_OPENSSL_DECORATION = re.compile(r"^\[[A-Z0-9_: ]+\]\s*|\s*\(_ssl\.c:\d+\)")


def connection_failure_reason(
    error: BaseException, *, address: str = "", secrets: Iterable[str] = ()
) -> str:
    """`address: cause`, on one line, with every secret in `secrets` masked."""
    detail = _cause(error)
    text = f"{address}: {detail}" if address else detail
    for secret in secrets:
        if secret:
            text = text.replace(secret, _MASK)
    text = _URL_CREDENTIALS.sub(r"\1" + _MASK + "@", text)
    text = " ".join(text.split())
    if len(text) > MAX_REASON_CHARACTERS:
        text = text[: MAX_REASON_CHARACTERS - 1] + "…"
    return text


def _cause(error: BaseException) -> str:
    for link in _chain(error):
        known = _known_cause(link)
        if known is not None:
            return known
    return str(error).strip() or type(error).__name__


def _known_cause(error: BaseException) -> str | None:
    """The operator's words for low-level failures; None for anything else."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message}".rstrip(".")
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {_OPENSSL_DECORATION.sub('', _ssl_text(error))}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(error, socket.gaierror):
        return f"host name not resolved ({error.strerror})"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return None


def _ssl_text(error: ssl.SSLError) -> str:
    if len(error.args) > 1 and isinstance(error.args[1], str):
        return error.args[1]
    return str(error)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, then what caused it, innermost last (bounded against cycles)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
