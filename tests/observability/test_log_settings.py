"""LOG_LEVEL and LOG_FORMAT are checked like every other setting: a typo stops the start."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from integration_api.config import ConfigError, load_settings


@pytest.mark.parametrize(
    ("value", "level"),
    [("", "info"), ("debug", "debug"), ("WARNING", "warning"), (" error ", "error")],
)
def test_a_log_level_is_one_of_four(value: str, level: str) -> None:
    assert load_settings({"LOG_LEVEL": value}).log_level == level


@pytest.mark.parametrize("value", ["verbose", "warn", "trace", "critical", "10"])
def test_any_other_log_level_is_refused_naming_the_allowed_ones(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"LOG_LEVEL": value})
    assert str(refused.value) == "LOG_LEVEL must be debug, info, warning or error"


def test_a_bad_log_format_is_refused_the_same_way() -> None:
    with pytest.raises(ConfigError, match=r"^LOG_FORMAT must be json or console$"):
        load_settings({"LOG_FORMAT": "text"})


async def test_the_command_stops_with_one_line_on_a_bad_log_level() -> None:
    env = {**os.environ, "LOG_LEVEL": "verbose"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "integration_api.cli",
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 2
    assert stdout == b""
    assert stderr.decode() == "integration-api: LOG_LEVEL must be debug, info, warning or error\n"
