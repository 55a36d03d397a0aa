"""One thread budget for a command: the CPUs it may use, split between torch's threads in the main
process, data-loading processes and metric processes so that together they never ask for more.

Each of them would otherwise start as if it had the machine alone: on 2 cores a model's evaluation
ran torch's 2 threads beside 2 loaders and 2 metric processes, and with one core busy elsewhere
a network's ``resize`` strategy took 2.41 s an image instead of 0.27 s. The default budget is what this process
may really use: its CPU affinity and its cgroup's CPU quota (containers, Slurm), not the machine's
core count.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path


def available_cpus() -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup CPU quota (v2
    ``cpu.max`` or v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``); at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        count = min(count, max(1, math.floor(quota)))
    return max(1, count)


def _cgroup_quota() -> float | None:
    """CPUs granted by the cgroup this process is in, None when unlimited or unknown."""
    try:
        fields = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if fields and fields[0] != "max":
            return int(fields[0]) / int(fields[1])
        return None
    except (OSError, ValueError, IndexError):
        pass
    try:
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class ThreadBudget:
    """How a command's ``total`` threads are spent."""

    total: int
    #: torch's intra-op threads in the main process (a network's inference)
    torch: int
    #: DataLoader processes reading a model's images
    loaders: int
    #: processes computing the metrics
    metric_workers: int

    def describe(self) -> str:
        return (f"{self.total} threads: torch {self.torch}, data loading {self.loaders}, "
                f"metrics {self.metric_workers}")


def eval_budget(threads: int | None, runs_model: bool, loaders: int | None = None,
                metric_workers: int | None = None) -> ThreadBudget:
    """The split for ``matbench eval``. Scoring a folder of predictions is all metrics: one
    metric process per thread. A model's evaluation is mostly inference: torch gets what the
    loaders and metric processes leave (one metric process, no loader process on 2 threads; a
    loader per 4 threads beyond). Counts given explicitly are kept; torch gets the rest, at least
    one thread."""
    total = max(1, threads or available_cpus())
    if not runs_model:
        workers = total if metric_workers is None else metric_workers
        return ThreadBudget(total, torch=1, loaders=0, metric_workers=workers)
    if metric_workers is None:
        metric_workers = 1 if total >= 2 else 0
    if loaders is None:
        loaders = min(2, max(0, (total - 2) // 4))
    return ThreadBudget(total, torch=max(1, total - metric_workers - loaders), loaders=loaders,
                        metric_workers=metric_workers)


def set_torch_threads(count: int) -> None:
    """torch's intra-op threads of this process, never more than ``OMP_NUM_THREADS`` says when it
    is set (the user's word, and what torchrun sets)."""
    import torch

    limit = os.environ.get("OMP_NUM_THREADS", "")
    if limit.isdigit() and int(limit) > 0:
        count = min(count, int(limit))
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)


def quiet_waiting() -> None:
    """Let OpenMP threads sleep, not spin, while they wait for work (unless the user chose): a
    spinning thread takes a core from the other processes of the budget, and from everything
    else on a shared machine. Must run before torch starts its thread pool."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
