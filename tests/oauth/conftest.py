from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.oauth.support import OAuthWorld, oauth_world


@pytest.fixture(scope="package")
async def world(package_database_dsn: str) -> AsyncIterator[OAuthWorld]:
    """One service and one pair of providers for the whole package (fast); tests use their
    own connection names and tenants, and reset the providers' behaviour."""
    async with oauth_world(package_database_dsn) as world:
        yield world


@pytest.fixture
async def oauth(world: OAuthWorld) -> AsyncIterator[OAuthWorld]:
    yield world
    for fake in (world.google, world.github):
        fake.behaviour = type(fake.behaviour)()
    world.github.use_shape("github_app")
