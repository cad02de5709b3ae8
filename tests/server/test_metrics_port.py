"""The metrics port's HTTP server on its own: the probes answer the state they are given, every
other path 404, other methods 405, and a slow or oversized client cannot hold it."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter

from integration_api.server import metrics_port
from integration_api.server.metrics_port import MetricsPort, ProbeState


class _States:
    """The state the probes answer, changed by the test as the service would change it."""

    def __init__(self) -> None:
        self.now = ProbeState(alive=True, serving=True)

    def __call__(self) -> ProbeState:
        return self.now


@pytest.fixture
def states() -> _States:
    return _States()


@pytest.fixture
def port(states: _States) -> Iterator[MetricsPort]:
    registry = CollectorRegistry()
    Counter("probe_test_things", "Things.", registry=registry).inc()
    server = MetricsPort("127.0.0.1", 0, registry, states)
    yield server
    server.close()


def _url(port: MetricsPort, path: str) -> str:
    return f"http://127.0.0.1:{port.port}{path}"


def test_probes_answer_200_with_a_json_status_while_serving(port: MetricsPort) -> None:
    for path in ("/healthz/", "/readiness/"):
        answer = httpx.get(_url(port, path))
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.text == '{"status":"SERVING"}\n'


def test_readiness_answers_503_with_the_reason_on_one_line(
    port: MetricsPort, states: _States
) -> None:
    states.now = ProbeState(alive=True, serving=False, reason="database: refused\n(port 5432)")
    answer = httpx.get(_url(port, "/readiness/"))
    assert answer.status_code == 503
    assert answer.text.count("\n") == 1
    assert answer.json() == {"status": "NOT_SERVING", "reason": "database: refused (port 5432)"}
    assert httpx.get(_url(port, "/healthz/")).status_code == 200


def test_liveness_answers_503_once_the_process_drains(port: MetricsPort, states: _States) -> None:
    states.now = ProbeState(alive=False, serving=False, reason="draining")
    for path in ("/healthz/", "/readiness/"):
        answer = httpx.get(_url(port, path))
        assert (answer.status_code, answer.json()["reason"]) == (503, "draining")


def test_a_long_reason_is_cut(port: MetricsPort, states: _States) -> None:
    states.now = ProbeState(alive=True, serving=False, reason="x" * 5000)
    reason = httpx.get(_url(port, "/readiness/")).json()["reason"]
    assert len(reason) == metrics_port.MAX_REASON_CHARACTERS
    assert reason.endswith("...")


def test_metrics_are_served_and_negotiate_openmetrics(port: MetricsPort) -> None:
    plain = httpx.get(_url(port, "/metrics"))
    assert plain.status_code == 200
    assert "probe_test_things_total 1.0" in plain.text
    accept = {"accept": "application/openmetrics-text; version=1.0.0"}
    open_metrics = httpx.get(_url(port, "/metrics"), headers=accept)
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.endswith("# EOF\n")


@pytest.mark.parametrize(
    "path", ["/", "/metricsx", "/healthz", "/readiness", "/healthz/x", "/ready", "/readiness//"]
)
def test_every_other_path_is_not_found(port: MetricsPort, path: str) -> None:
    assert httpx.get(_url(port, path)).status_code == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"])
def test_methods_other_than_get_and_head_are_not_allowed(port: MetricsPort, method: str) -> None:
    answer = httpx.request(method, _url(port, "/readiness/"))
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD"


def test_head_answers_the_status_without_a_body(port: MetricsPort, states: _States) -> None:
    states.now = ProbeState(alive=True, serving=False, reason="starting")
    answer = httpx.head(_url(port, "/readiness/"))
    assert (answer.status_code, answer.content) == (503, b"")


def _connect(port: MetricsPort) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port.port), timeout=10)


def _read_all(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def test_an_oversized_request_is_dropped_unanswered(port: MetricsPort) -> None:
    with _connect(port) as connection:
        connection.sendall(b"GET /healthz/ HTTP/1.1\r\n")
        filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"
        with pytest.raises(OSError):  # reset once the server closed it
            for _ in range(metrics_port.MAX_REQUEST_BYTES // len(filler) + 2):
                connection.sendall(filler)
            connection.sendall(b"\r\n")
            assert _read_all(connection) == b""
            raise ConnectionResetError
    assert httpx.get(_url(port, "/healthz/")).status_code == 200


def test_a_client_that_never_finishes_its_request_is_cut_at_the_deadline(
    port: MetricsPort, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_port, "CONNECTION_DEADLINE_SECONDS", 0.5)
    with _connect(port) as connection:
        started = time.monotonic()
        for _ in range(10):  # a byte now and then, each well within the read timeout
            try:
                connection.sendall(b"X")
            except OSError:
                break
            time.sleep(0.1)
        assert _read_all(connection) == b""
        assert time.monotonic() - started < 2


def _connect_from(port: MetricsPort, source: str) -> socket.socket:
    return socket.create_connection(
        ("127.0.0.1", port.port), timeout=10, source_address=(source, 0)
    )


def _probe_from(port: MetricsPort, source: str) -> bytes:
    """The answer, or nothing when the server closed the connection unanswered."""
    with _connect_from(port, source) as connection:
        try:
            connection.sendall(b"GET /readiness/ HTTP/1.1\r\nHost: pod\r\n\r\n")
            return _read_all(connection)
        except ConnectionResetError:  # closed with the request unread
            return b""


def test_a_client_holding_connections_open_leaves_the_others_their_slots(
    port: MetricsPort,
) -> None:
    held = [
        _connect_from(port, "127.0.0.2") for _ in range(metrics_port.MAX_CONNECTIONS_PER_CLIENT)
    ]
    try:
        for connection in held:
            connection.sendall(b"GET /healthz/ HTTP/1.1\r\n")  # and never the rest
        # Its next connection is closed unanswered; another address is answered at once.
        assert _probe_from(port, "127.0.0.2") == b""
        started = time.monotonic()
        assert _probe_from(port, "127.0.0.1").startswith(b"HTTP/1.0 200")
        assert time.monotonic() - started < 1
    finally:
        for connection in held:
            connection.close()


def test_connections_beyond_the_limit_are_closed_unanswered(port: MetricsPort) -> None:
    per_client = metrics_port.MAX_CONNECTIONS_PER_CLIENT
    clients = [f"127.0.1.{index}" for index in range(metrics_port.MAX_CONNECTIONS // per_client)]
    held = [_connect_from(port, client) for client in clients for _ in range(per_client)]
    try:
        for connection in held:
            connection.sendall(b"GET /healthz/ HTTP/1.1\r\n")
        assert _probe_from(port, "127.0.2.1") == b""
    finally:
        for connection in held:
            connection.close()
    for _attempt in range(50):  # the slots come back as the server sees the connections close
        if _probe_from(port, "127.0.2.1"):
            break
        time.sleep(0.1)
    assert _probe_from(port, "127.0.2.1").startswith(b"HTTP/1.0 200")


def test_the_probe_body_is_json(port: MetricsPort, states: _States) -> None:
    states.now = ProbeState(alive=True, serving=False, reason='quote " and \\ backslash')
    body = httpx.get(_url(port, "/readiness/")).text
    assert json.loads(body)["reason"] == 'quote " and \\ backslash'
