"""Several processes (torchrun): joining the process group on CPUs (gloo) and GPUs (nccl)."""
from __future__ import annotations

import os

from .errors import MatbenchError

LAUNCHERS = ("none", "pytorch", "slurm", "mpi")


def init_processes(launcher: str) -> None:
    """Join the process group of ``launcher`` (no-op for ``none`` or when already joined).

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` unconditionally, so on a machine
    without CUDA the group is joined here with gloo, before mmengine looks (it then skips its own
    initialisation)."""
    import torch
    import torch.distributed as dist

    if launcher not in LAUNCHERS:
        raise MatbenchError(f"unknown launcher '{launcher}' (known: {', '.join(LAUNCHERS)})")
    if launcher == "none" or dist.is_initialized():
        return
    if launcher == "pytorch" and not all(v in os.environ for v in ("RANK", "WORLD_SIZE", "MASTER_ADDR")):
        raise MatbenchError("--launcher pytorch: RANK / WORLD_SIZE / MASTER_ADDR are not set; start the "
                            "command with torchrun (e.g. torchrun --nproc_per_node 2 -m matbench.cli ...)")
    if torch.cuda.is_available():
        from mmengine.dist import init_dist

        init_dist(launcher, backend="nccl")
    elif launcher == "pytorch":
        dist.init_process_group(backend="gloo")
    else:
        raise MatbenchError(f"--launcher {launcher} needs CUDA; on CPUs use torchrun with --launcher pytorch")


def barrier() -> None:
    """Wait for every process of the group (no-op in a single process)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
