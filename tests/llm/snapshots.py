"""Snapshots of the requests the service sends upstream: method, URL, headers that matter, body.

A snapshot lives next to the provider's fixtures (`tests/fixtures/<provider>/requests/`).
Run with UPDATE_SNAPSHOTS=1 to rewrite them after a deliberate change, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.fakes.replay import LAYOUTS, fixture_path
from tests.fakes.server import RecordedRequest

_HEADERS = (
    "accept",
    "anthropic-version",
    "api-key",
    "authorization",
    "content-type",
    "x-api-key",
    "x-goog-api-key",
)


def request_snapshot(request: RecordedRequest, key: str, base_path: str) -> dict[str, object]:
    """The parts of `request` a provider depends on, with the session's key as `<key>`."""
    headers = {
        name: request.headers[name].replace(key, "<key>") if key else request.headers[name]
        for name in _HEADERS
        if name in request.headers
    }
    return {
        "method": request.method,
        "path": request.path.removeprefix(base_path) or "/",
        "query": request.query,
        "headers": headers,
        "body": request.json(),
    }


def snapshot_path(provider: str, name: str) -> Path:
    return fixture_path(LAYOUTS[provider], f"requests/{name}.json")


def assert_matches_snapshot(provider: str, name: str, actual: dict[str, object]) -> None:
    path = snapshot_path(provider, name)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n")
        assert os.environ.get("UPDATE_SNAPSHOTS") == "1", f"snapshot {path} created: review it"
    expected = json.loads(path.read_text())
    assert actual == expected
