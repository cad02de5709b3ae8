"""Callbacks that match no pending authorization are counted and logged sampled; the audit
chain records only callbacks whose state matched one."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from integration_api.oauth.refusals import SampledLog
from tests.oauth.support import OAuthWorld, query_of

REFUSALS = "integration_api_oauth_callback_refusals_total"


def _refused(reason: str) -> float:
    return REGISTRY.get_sample_value(REFUSALS, {"reason": reason}) or 0.0


async def _audit_rows(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM audit_events"))
    finally:
        await connection.close()


async def _flood(url: str, count: int) -> list[int]:
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(timeout=10, limits=limits) as browser:
        answers = await asyncio.gather(
            *(browser.get(url, params={"state": f"forged-{n}", "code": "c"}) for n in range(count))
        )
    return [answer.status_code for answer in answers]


async def test_unknown_state_callbacks_are_counted_not_audited(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    rows = await _audit_rows(package_database_dsn)
    counted = _refused("state_unknown")
    with capture_logs() as logs:
        statuses = await _flood(f"{oauth.callback_url}/google", 300)
    assert statuses == [400] * 300
    assert await _audit_rows(package_database_dsn) == rows
    assert _refused("state_unknown") == counted + 300
    lines = [entry for entry in logs if entry["event"] == "oauth_callback_refused"]
    assert len(lines) <= 1


async def test_a_refused_callback_whose_state_matched_is_audited(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    oauth.google.behaviour.decline = True
    callback = await oauth.authorize_code(await oauth.start("google", "matched-refusal"))
    rows = await _audit_rows(package_database_dsn)
    async with httpx.AsyncClient(timeout=10) as browser:
        answer = await browser.get(callback)
    assert query_of(answer.headers["location"])["reason"] == "access_denied"
    assert await _audit_rows(package_database_dsn) == rows + 1


def test_a_sampled_log_writes_one_line_per_interval_and_counts_the_rest() -> None:
    now = [100.0]
    sampled = SampledLog("refused", interval_seconds=60, clock=lambda: now[0])
    with capture_logs() as logs:
        written = [sampled("state_unknown") for _ in range(300)]
        sampled("state_missing")
        now[0] += 61
        sampled("state_unknown")
    assert written.count(True) == 1
    assert [(entry["reason"], entry["suppressed"]) for entry in logs] == [
        ("state_unknown", 0),
        ("state_missing", 0),
        ("state_unknown", 299),
    ]
