"""The upstream bounds come from the environment, with defaults, and nonsense is refused."""

from __future__ import annotations

import pytest

from integration_api.config import ConfigError, load_settings
from integration_api.upstream.limits import UpstreamLimits


def test_every_bound_has_a_default() -> None:
    assert load_settings({}).upstream == UpstreamLimits()


def test_bounds_are_read_from_their_variables() -> None:
    settings = load_settings(
        {
            "UPSTREAM_MAX_BODY_BYTES": "1000",
            "UPSTREAM_MAX_ERROR_BODY_BYTES": "1001",
            "UPSTREAM_MAX_SSE_LINE_BYTES": "1002",
            "UPSTREAM_MAX_SSE_EVENT_BYTES": "1003",
            "UPSTREAM_MAX_TOOL_CALLS": "4",
            "UPSTREAM_MAX_TOOL_ARGUMENTS_BYTES": "1004",
            "UPSTREAM_MAX_ANSWER_SECONDS": "30.5",
            "UPSTREAM_MAX_EVENT_GAP_SECONDS": "7",
            "UPSTREAM_MAX_CONNECTIONS": "50",
            "UPSTREAM_MAX_CONNECTIONS_PER_HOST": "10",
            "UPSTREAM_MAX_CALLS_PER_TENANT": "5",
            "EMBED_MAX_INPUTS": "6",
            "EMBED_MAX_CHARACTERS": "1005",
        }
    )
    assert settings.upstream == UpstreamLimits(
        max_body_bytes=1000,
        max_error_body_bytes=1001,
        max_sse_line_bytes=1002,
        max_sse_event_bytes=1003,
        max_tool_calls=4,
        max_tool_arguments_bytes=1004,
        max_answer_seconds=30.5,
        max_event_gap_seconds=7.0,
        max_connections=50,
        max_connections_per_host=10,
        max_calls_per_tenant=5,
        max_embed_inputs=6,
        max_embed_characters=1005,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("UPSTREAM_MAX_BODY_BYTES", "0"),
        ("UPSTREAM_MAX_CALLS_PER_TENANT", "-1"),
        ("UPSTREAM_MAX_EVENT_GAP_SECONDS", "0"),
        ("EMBED_MAX_INPUTS", "many"),
    ],
)
def test_a_bound_that_is_not_a_positive_number_is_refused_naming_its_variable(
    name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})
