"""Without --address, `health-probe` asks where the service listens: HOST and PORT."""

from __future__ import annotations

import pytest

from integration_api.config import ConfigError
from integration_api.server.probe import default_address


@pytest.mark.parametrize(
    ("env", "address"),
    [
        ({}, "127.0.0.1:9004"),
        ({"PORT": "9100"}, "127.0.0.1:9100"),
        ({"HOST": "0.0.0.0", "PORT": "9100"}, "127.0.0.1:9100"),
        ({"HOST": "::", "PORT": "9100"}, "[::1]:9100"),
        ({"HOST": "10.1.2.3"}, "10.1.2.3:9004"),
        ({"HOST": "fd00::5", "PORT": "7"}, "[fd00::5]:7"),
        ({"HOST": "integration-api.internal"}, "integration-api.internal:9004"),
    ],
)
def test_the_default_address_follows_host_and_port(env: dict[str, str], address: str) -> None:
    assert default_address(env) == address


def test_a_port_that_is_not_a_number_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError, match="PORT must be a whole number"):
        default_address({"PORT": "nine"})
