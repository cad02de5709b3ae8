"""The usage section of the settings: defaults, the environment, and what is refused."""

from __future__ import annotations

import pytest

from integration_api.config import ConfigError, UsageSettings, load_settings


def test_defaults() -> None:
    assert load_settings({}).usage == UsageSettings(
        buffer_records=100_000, batch_records=200, flush_interval_seconds=0.2, retention_months=13
    )


def test_read_from_the_environment() -> None:
    usage = load_settings(
        {
            "USAGE_BUFFER_RECORDS": "2000",
            "USAGE_BATCH_RECORDS": "100",
            "USAGE_FLUSH_INTERVAL_SECONDS": "0.5",
            "USAGE_RETENTION_MONTHS": "0",
        }
    ).usage
    assert usage == UsageSettings(2000, 100, 0.5, 0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("USAGE_BUFFER_RECORDS", "0"),
        ("USAGE_BATCH_RECORDS", "-1"),
        ("USAGE_FLUSH_INTERVAL_SECONDS", "0"),
        ("USAGE_RETENTION_MONTHS", "-1"),
        ("USAGE_BATCH_RECORDS", "200000"),  # more than the buffer holds
    ],
)
def test_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})
