"""The HTTP server on METRICS_PORT: `/metrics`, and the probes `/healthz/` and `/readiness/`.

It runs in threads of its own, so a probe is answered while the event loop is busy with RPCs;
the answers come from a `ProbeState` the service keeps current (readiness checks in one process,
the workers' reports in the supervisor of `serve --workers`). `/healthz` and `/readiness`
without the slash are redirected to the real paths (as the platform's Go service did); any
other path answers 404, and methods other than GET and HEAD 405.

Each connection has a deadline and a bounded request, and connections beyond a small number are
closed at once, as are those beyond a smaller number from one address: a client that sends
slowly (or never) holds a slot for a few seconds at most, cannot make the server take unbounded
threads or memory, and cannot take the slots the kubelet's and Prometheus's connections need.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

# Every read of a request waits at most this long; the whole connection at most the deadline.
READ_TIMEOUT_SECONDS = 2.0
CONNECTION_DEADLINE_SECONDS = 5.0
# Request line and headers together; a probe or a scrape sends a few hundred bytes.
MAX_REQUEST_BYTES = 16 * 1024
MAX_CONNECTIONS = 64
MAX_CONNECTIONS_PER_CLIENT = 8
MAX_REASON_CHARACTERS = 300

LIVENESS_PATH = "/healthz/"
READINESS_PATH = "/readiness/"
METRICS_PATH = "/metrics"


@dataclass(frozen=True)
class ProbeState:
    """What the probes answer. `reason` says why not (secret-free, as readiness reasons are)."""

    alive: bool
    serving: bool
    reason: str = ""


StateSource = Callable[[], ProbeState]


def _probe_body(ok: bool, reason: str) -> bytes:
    answer = {"status": "SERVING"} if ok else {"status": "NOT_SERVING", "reason": reason}
    return json.dumps(answer, separators=(",", ":")).encode() + b"\n"


def one_line(reason: str) -> str:
    """A reason as the probes print it: one line, bounded."""
    flat = " ".join(reason.split())
    if len(flat) > MAX_REASON_CHARACTERS:
        return flat[: MAX_REASON_CHARACTERS - 3] + "..."
    return flat


class _RequestTooLarge(Exception):
    pass


class _BoundedLines:
    """The request's reader, refusing more than MAX_REQUEST_BYTES of request line and headers."""

    def __init__(self, raw: io.BufferedIOBase, budget: int) -> None:
        self._raw = raw
        self._left = budget

    def readline(self, limit: int = -1) -> bytes:
        cap = self._left + 1 if limit < 0 else min(limit, self._left + 1)
        line = self._raw.readline(cap)
        self._left -= len(line)
        if self._left < 0:
            raise _RequestTooLarge
        return line

    def close(self) -> None:
        self._raw.close()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = READ_TIMEOUT_SECONDS
    # One request per connection: nothing waits on an idle keep-alive connection.
    protocol_version = "HTTP/1.0"

    def setup(self) -> None:
        super().setup()
        self.rfile = _BoundedLines(self.rfile, MAX_REQUEST_BYTES)  # type: ignore[assignment]
        self._deadline = threading.Timer(CONNECTION_DEADLINE_SECONDS, self._cut)
        self._deadline.daemon = True
        self._deadline.start()

    def finish(self) -> None:
        self._deadline.cancel()
        super().finish()

    def _cut(self) -> None:
        """Past the deadline: the blocked read or write fails and the thread ends."""
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def handle(self) -> None:
        try:
            super().handle()
        except (_RequestTooLarge, OSError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def parse_request(self) -> bool:
        """Answers 405 to any method but GET and HEAD, known to http.server or not."""
        if not super().parse_request():
            return False
        if self.command in ("GET", "HEAD"):
            return True
        allow = [("Allow", "GET, HEAD")]
        body = b"method not allowed\n"
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, body, "text/plain", True, allow)
        return False

    def _answer(self, send_body: bool) -> None:
        path = urlsplit(self.path).path
        if path == METRICS_PATH:
            encode, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(HTTPStatus.OK, encode(self.server.registry), content_type, send_body)
        elif path in (LIVENESS_PATH, READINESS_PATH):
            state = self.server.state()
            ok = state.alive if path == LIVENESS_PATH else state.serving
            reason = one_line(state.reason or "not serving")
            status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
            self._send(status, _probe_body(ok, reason), "application/json", send_body)
        else:
            # `/readiness` without its slash too: a redirect there would read as success to a
            # kubelet probe (any 2xx or 3xx passes), whatever readiness says.
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", send_body)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        send_body: bool,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers or []:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Probes and scrapes arrive every few seconds: not worth a log line each."""


class _Slots:
    """The connections being served, in all and per client address."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._per_client: dict[str, int] = {}

    def take(self, client: str) -> bool:
        with self._lock:
            held = self._per_client.get(client, 0)
            if self._total >= MAX_CONNECTIONS or held >= MAX_CONNECTIONS_PER_CLIENT:
                return False
            self._total += 1
            self._per_client[client] = held + 1
            return True

    def give_back(self, client: str) -> None:
        with self._lock:
            self._total -= 1
            left = self._per_client.pop(client) - 1
            if left:
                self._per_client[client] = left


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Closing the server does not wait for a slow client's connection to end.
    block_on_close = False
    # socketserver's default of 5 drops the SYNs of a burst, costing those clients a second.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], registry: Collector, state: StateSource) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        self.registry = registry
        self.state = state
        self._slots = _Slots()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.take(client_address[0]):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.give_back(client_address[0])
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.give_back(client_address[0])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer is not the service's error."""


class MetricsPort:
    """The server, listening on `host:port` (0: any free port) until `close`."""

    def __init__(self, host: str, port: int, registry: Collector, state: StateSource) -> None:
        self._server = _Server((host.strip("[]"), port), registry, state)
        self.port = int(self._server.server_address[1])
        # It looks for `close` every 0.1 s: a stop waits no longer than that.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="metrics-port", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
