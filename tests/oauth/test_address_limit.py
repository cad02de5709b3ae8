"""Which address a callback is limited by, and the token bucket per address."""

from __future__ import annotations

import ipaddress

import pytest

from integration_api.oauth.address_limit import AddressRateLimit, client_address

PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.7", "", "198.51.100.7"),
        # A client's own X-Forwarded-For is never believed.
        ("198.51.100.7", "203.0.113.9", "198.51.100.7"),
        ("10.1.2.3", "203.0.113.9", "203.0.113.9"),
        # Only the nearest untrusted hop counts; what the client wrote further left does not.
        ("10.1.2.3", "1.1.1.1, 203.0.113.9, 10.9.9.9", "203.0.113.9"),
        ("10.1.2.3", "", "10.1.2.3"),
        ("10.1.2.3", "not-an-address", "10.1.2.3"),
        ("2001:db8:1:2:3:4:5:6", "", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "", "198.51.100.7"),
    ],
)
def test_the_client_address_is_the_nearest_hop_no_trusted_proxy_vouches_for(
    peer: str, forwarded: str, expected: str
) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


def test_an_address_gets_its_burst_then_one_request_per_refill() -> None:
    now = [0.0]
    limit = AddressRateLimit(0.5, 3, clock=lambda: now[0])
    assert [limit.take("a") for _ in range(4)] == [0, 0, 0, 2]
    assert limit.take("b") == 0
    now[0] += 2.0
    assert limit.take("a") == 0
    assert limit.take("a") == 2


def test_the_buckets_kept_are_bounded_and_the_oldest_goes_first() -> None:
    limit = AddressRateLimit(0.001, 1, max_addresses=2, clock=lambda: 0.0)
    assert limit.take("a") == 0
    assert limit.take("b") == 0
    assert limit.take("a") > 0
    assert limit.take("c") == 0  # pushes out b, the least recently seen
    assert limit.take("a") > 0
    assert limit.take("b") == 0
