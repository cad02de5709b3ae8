"""Refusing to start on a port another process already holds, with one line that says so.

grpc reports a failed bind as a RuntimeError (after logging from its C core) and the metrics
server as a bare OSError; checked before anything starts, the operator instead reads which
variable names the port that is taken.
"""

from __future__ import annotations

import errno
import socket

from integration_api.config import ConfigError, Settings


def _taken(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the servers themselves bind: a port left in TIME_WAIT is free to use.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return False


def ensure_ports_free(settings: Settings) -> None:
    """Raise ConfigError naming the variable whose port is already in use (0 means any port)."""
    ports = [("PORT", settings.port), ("METRICS_PORT", settings.metrics_port)]
    if settings.oauth.enabled:
        ports.append(("OAUTH_CALLBACK_PORT", settings.oauth.callback_port))
    for variable, port in ports:
        if port and _taken(settings.host, port):
            raise ConfigError(
                f"{variable}={port} is already in use on {settings.host}: stop the process "
                f"holding it or set {variable} to a free port"
            )
