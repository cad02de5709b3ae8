"""The observability tests call providers through the real service, like the chat tests."""

from __future__ import annotations

from tests.support.provider_fixtures import all_upstreams, service

__all__ = ["all_upstreams", "service"]
