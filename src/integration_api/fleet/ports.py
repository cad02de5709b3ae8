"""The ports every worker shares, held by the supervisor for as long as it runs.

Workers bind the gRPC port and the OAuth callback port with SO_REUSEPORT, so the kernel spreads
new connections over every worker that listens. The supervisor binds each port first with the
same option and never listens on it: that socket receives no connection (only listening sockets
take part), but it turns PORT=0 into one concrete port for all workers and keeps the port ours
while a worker restarts. Before that, a plain bind proves no other process holds the port, so a
port in use still ends the start with the one line `ensure_ports_free` prints.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, replace

from integration_api.config import Settings
from integration_api.server.ports import ensure_ports_free


def _reserve(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    try:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind((host.strip("[]"), port))
    except BaseException:
        holder.close()
        raise
    return holder


@dataclass
class SharedPorts:
    """The reserved sockets, and the settings workers run with (concrete shared ports, and no
    metrics port of their own: the supervisor serves the fleet's /metrics)."""

    worker_settings: Settings
    _holders: list[socket.socket]

    @classmethod
    def reserve(cls, settings: Settings) -> SharedPorts:
        ensure_ports_free(settings)
        holders = [_reserve(settings.host, settings.port)]
        oauth = settings.oauth
        try:
            if oauth.enabled:
                holders.append(_reserve(settings.host, oauth.callback_port))
        except BaseException:
            holders[0].close()
            raise
        ports = [int(holder.getsockname()[1]) for holder in holders]
        if oauth.enabled:
            oauth = replace(oauth, callback_port=ports[1])
        worker_settings = replace(settings, port=ports[0], metrics_port=0, oauth=oauth)
        return cls(worker_settings, holders)

    @property
    def port(self) -> int:
        return self.worker_settings.port

    def close(self) -> None:
        for holder in self._holders:
            holder.close()
        self._holders = []
