"""The gRPC edge's budgets, connection limits and speech session bounds come from the
environment, with defaults; nonsense is refused naming its variable, and so is a connection-age
grace too short for the longest speech session."""

from __future__ import annotations

import pytest

from integration_api.config import ConfigError, GrpcLimits, load_settings
from integration_api.config.speech_limits import SpeechLimits


def test_every_edge_bound_has_a_default() -> None:
    settings = load_settings({})
    assert settings.grpc == GrpcLimits()
    assert settings.speech == SpeechLimits()
    assert settings.grpc.max_connection_age_grace_seconds >= settings.speech.max_session_seconds


def test_edge_bounds_are_read_from_their_variables() -> None:
    settings = load_settings(
        {
            "GRPC_MAX_CONCURRENT_RPCS": "50",
            "GRPC_MAX_WATCH_STREAMS": "7",
            "GRPC_MAX_WATCH_STREAMS_PER_PEER": "2",
            "GRPC_MAX_REFLECTION_STREAMS": "5",
            "GRPC_MAX_REFLECTION_STREAMS_PER_PEER": "1",
            "GRPC_MAX_OPENING_STREAMS_PER_TENANT": "8",
            "GRPC_MAX_STREAMS_PER_CONNECTION": "30",
            "GRPC_MAX_CONNECTION_AGE_SECONDS": "600",
            "GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS": "900",
            "GRPC_MAX_CONNECTION_IDLE_SECONDS": "120",
            "GRPC_KEEPALIVE_PERMIT_WITHOUT_CALLS": "true",
            "GRPC_KEEPALIVE_MAX_PING_STRIKES": "0",
            "GRPC_FIRST_MESSAGE_SECONDS": "2.5",
            "SPEECH_MAX_SESSION_SECONDS": "900",
            "SPEECH_MAX_CALLER_IDLE_SECONDS": "30",
        }
    )
    assert settings.grpc == GrpcLimits(
        max_concurrent_rpcs=50,
        max_watch_streams=7,
        max_watch_streams_per_peer=2,
        max_reflection_streams=5,
        max_reflection_streams_per_peer=1,
        max_opening_streams_per_tenant=8,
        max_streams_per_connection=30,
        max_connection_age_seconds=600.0,
        max_connection_age_grace_seconds=900.0,
        max_connection_idle_seconds=120.0,
        keepalive_permit_without_calls=True,
        keepalive_max_ping_strikes=0,
        first_message_seconds=2.5,
    )
    assert settings.speech.max_session_seconds == 900.0
    assert settings.speech.max_caller_idle_seconds == 30.0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GRPC_MAX_CONCURRENT_RPCS", "0"),
        ("GRPC_MAX_WATCH_STREAMS", "-1"),
        ("GRPC_MAX_WATCH_STREAMS_PER_PEER", "0"),
        ("GRPC_MAX_REFLECTION_STREAMS", "none"),
        ("GRPC_MAX_STREAMS_PER_CONNECTION", "0"),
        ("GRPC_MAX_CONNECTION_IDLE_SECONDS", "0"),
        ("GRPC_KEEPALIVE_PERMIT_WITHOUT_CALLS", "maybe"),
        ("GRPC_KEEPALIVE_MAX_PING_STRIKES", "-1"),
        ("GRPC_FIRST_MESSAGE_SECONDS", "0"),
        ("SPEECH_MAX_CALLER_IDLE_SECONDS", "0"),
    ],
)
def test_an_edge_bound_that_is_not_a_valid_number_is_refused_naming_its_variable(
    name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_a_connection_age_grace_shorter_than_a_speech_session_is_refused() -> None:
    with pytest.raises(ConfigError, match="GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS"):
        load_settings(
            {"GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS": "600", "SPEECH_MAX_SESSION_SECONDS": "1200"}
        )
