"""How many workers `serve` runs by default: every CPU the pod may use in production, else one."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from integration_api.config import Settings
from integration_api.fleet.cpus import available_cpus, cgroup_cpu_limit, worker_count


@pytest.mark.parametrize(
    ("files", "limit"),
    [
        ({"cpu.max": "max 100000"}, None),
        ({"cpu.max": "200000 100000"}, 2),
        ({"cpu.max": "150000 100000"}, 2),
        ({"cpu.max": "50000 100000"}, 1),
        ({"cpu/cpu.cfs_quota_us": "300000", "cpu/cpu.cfs_period_us": "100000"}, 3),
        ({"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, None),
        ({}, None),
    ],
)
def test_the_cgroup_cpu_quota_is_read_and_rounded_up(
    tmp_path: Path, files: dict[str, str], limit: int | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text + "\n")
    assert cgroup_cpu_limit(tmp_path) == limit


def test_a_quota_below_the_cpus_in_reach_caps_the_count(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    assert available_cpus(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert available_cpus(tmp_path) == len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("environment", "configured", "requested", "expected"),
    [
        ("development", 0, None, 1),
        ("test", 0, None, 1),
        ("production", 0, None, available_cpus()),
        ("production", 3, None, 3),
        ("development", 3, None, 3),
        ("production", 3, 2, 2),
    ],
)
def test_workers_come_from_the_option_then_the_variable_then_the_cpus_in_production(
    environment: str, configured: int, requested: int | None, expected: int
) -> None:
    settings = replace(Settings(), environment=environment, workers=configured)
    assert worker_count(settings, requested) == expected
