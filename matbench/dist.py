"""Several processes (torchrun): joining the process group on CPUs (gloo) and GPUs (nccl)."""
from __future__ import annotations

import os
import sys

from .errors import MatbenchError

LAUNCHERS = ("none", "pytorch", "slurm", "mpi")


def init_processes(launcher: str) -> None:
    """Join the process group of ``launcher`` (no-op for ``none`` or when already joined).

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` unconditionally, so on a machine
    without CUDA the group is joined here with gloo, before mmengine looks (it then skips its own
    initialisation)."""
    if launcher not in LAUNCHERS:
        raise MatbenchError(f"unknown launcher '{launcher}' (known: {', '.join(LAUNCHERS)})")
    if launcher == "none":
        return
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
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


def _group():
    """``torch.distributed`` when this process has joined a group, else None. A process that
    never imported torch is in no group: asking costs no torch import."""
    dist = sys.modules.get("torch.distributed")
    return dist if dist is not None and dist.is_available() and dist.is_initialized() else None


def get_rank() -> int:
    """This process's rank in its group (0 in a single process)."""
    dist = _group()
    return dist.get_rank() if dist is not None else 0


def get_world_size() -> int:
    """How many processes the group has (1 in a single process)."""
    dist = _group()
    return dist.get_world_size() if dist is not None else 1


def barrier() -> None:
    """Wait for every process of the group (no-op in a single process)."""
    dist = _group()
    if dist is not None:
        dist.barrier()


def all_gather_object(obj: object) -> list:
    """`obj` of every process, in rank order (``[obj]`` in a single process)."""
    dist = _group()
    if dist is None:
        return [obj]
    from mmengine.dist import all_gather_object as gather

    return gather(obj)


def broadcast_object(obj: object) -> object:
    """Rank 0's `obj` on every process (`obj` itself in a single process)."""
    dist = _group()
    if dist is None:
        return obj
    from mmengine.dist import broadcast_object_list

    holder = [obj]
    broadcast_object_list(holder)
    return holder[0]
