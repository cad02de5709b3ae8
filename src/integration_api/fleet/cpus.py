"""How many worker processes `serve` runs when neither --workers nor WORKERS says.

In a container `os.cpu_count()` is the node's count, not what the pod may use: a pod limited
to two CPUs on a 64-core node must not start 64 workers. The answer is the smaller of the CPUs
this process may run on (affinity) and the cgroup's CPU quota, rounded up.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from integration_api.config import Settings

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> int | None:
    """The CPU quota of cgroup v2 (`cpu.max`) or v1 (`cpu.cfs_quota_us`), rounded up; None
    when there is no quota."""
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        if quota == "max" or not period:
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    quota_v1 = _read(root / "cpu" / "cpu.cfs_quota_us")
    period_v1 = _read(root / "cpu" / "cpu.cfs_period_us")
    if quota_v1 is None or period_v1 is None or int(quota_v1) <= 0:
        return None
    return max(1, math.ceil(int(quota_v1) / int(period_v1)))


def available_cpus(root: Path = CGROUP_ROOT) -> int:
    usable = len(os.sched_getaffinity(0))
    limit = cgroup_cpu_limit(root)
    return min(usable, limit) if limit is not None else usable


def worker_count(settings: Settings, requested: int | None) -> int:
    """--workers wins, then WORKERS; otherwise every available CPU in production, else one."""
    if requested is not None:
        return requested
    if settings.workers:
        return settings.workers
    return available_cpus() if settings.production else 1
