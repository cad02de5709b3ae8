"""Per-connection limits of the gRPC port, seen on a raw HTTP/2 connection: streams per
connection, maximum age with its grace, maximum idle time, and the ping policy."""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress

import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import pytest
from grpc_health.v1 import health_pb2

from integration_api.config import GrpcLimits
from tests.support.h2_client import GOAWAY, Frame, RawConnection
from tests.support.service import running_service

WATCH = "/grpc.health.v1.Health/Watch"
WATCH_REQUEST = health_pb2.HealthCheckRequest(service="")


def _goaway(frame: Frame) -> bool:
    return frame.kind == GOAWAY


def _settings(event: h2.events.Event) -> bool:
    return isinstance(event, h2.events.RemoteSettingsChanged)


async def test_the_server_announces_and_enforces_its_streams_per_connection(
    postgres_dsn: str,
) -> None:
    limits = GrpcLimits(max_streams_per_connection=2)
    async with (
        running_service(postgres_dsn, grpc=limits) as service,
        RawConnection("127.0.0.1", service.app.port) as connection,
    ):
        settings = await connection.wait_for(_settings)
        assert isinstance(settings, h2.events.RemoteSettingsChanged)
        announced = settings.changed_settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS]
        assert announced.new_value == 2
        first = await connection.open_stream(WATCH, WATCH_REQUEST)
        second = await connection.open_stream(WATCH, WATCH_REQUEST)
        await asyncio.sleep(0.2)
        assert not connection.stream_ended(first) and not connection.stream_ended(second)


async def test_a_connection_past_its_age_gets_goaway_and_its_stream_lives_until_the_grace(
    postgres_dsn: str,
) -> None:
    limits = GrpcLimits(max_connection_age_seconds=0.3, max_connection_age_grace_seconds=1.0)
    async with (
        running_service(postgres_dsn, grpc=limits) as service,
        RawConnection("127.0.0.1", service.app.port) as connection,
    ):
        started = time.perf_counter()
        stream = await connection.open_stream(WATCH, WATCH_REQUEST)
        await connection.wait_for_frame(_goaway, timeout=3)
        told = time.perf_counter() - started
        await asyncio.sleep(0.3)
        assert not connection.stream_ended(stream), "the open stream outlives the GOAWAY"
        await asyncio.wait_for(connection.closed.wait(), 5)
        ended = time.perf_counter() - started
        # The age is jittered by grpc (±10 %); the grace follows it.
        assert 0.2 < told < 1.0
        assert ended - told > 0.8, "the stream had the grace"


async def test_a_connection_without_calls_is_closed_after_the_idle_time(postgres_dsn: str) -> None:
    limits = GrpcLimits(max_connection_idle_seconds=0.3)
    async with (
        running_service(postgres_dsn, grpc=limits) as service,
        RawConnection("127.0.0.1", service.app.port) as connection,
    ):
        started = time.perf_counter()
        goaway = await connection.wait_for_frame(_goaway, timeout=3)
        assert goaway.goaway[1] == b"connection idle"
        assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("permitted", [False, True])
async def test_pings_on_a_connection_without_calls_are_strikes_unless_permitted(
    permitted: bool, postgres_dsn: str
) -> None:
    # No minimum interval: only the policy on pings without calls is at work.
    limits = GrpcLimits(
        keepalive_min_ping_interval_seconds=0,
        keepalive_permit_without_calls=permitted,
        keepalive_max_ping_strikes=2,
    )
    async with (
        running_service(postgres_dsn, grpc=limits) as service,
        RawConnection("127.0.0.1", service.app.port) as connection,
    ):
        await connection.wait_for(_settings)
        for index in range(5):
            with suppress(h2.exceptions.ProtocolError):  # h2 refuses to ping past a GOAWAY
                await connection.ping(bytes([index]) * 8)
            await asyncio.sleep(0.02)
        if permitted:
            await asyncio.sleep(0.3)
            assert not [frame for frame in connection.frames if _goaway(frame)]
            return
        goaway = await connection.wait_for_frame(_goaway, timeout=3)
        assert goaway.goaway == (h2.errors.ErrorCodes.ENHANCE_YOUR_CALM, b"too_many_pings")
