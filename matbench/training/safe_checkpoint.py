"""Checkpoints that load with ``torch.load(weights_only=True)``.

mmengine 0.10 stores its message hub as Python objects (``HistoryBuffer``, NumPy arrays and
scalars), which torch >= 2.6 refuses to unpickle by default, so ``--resume`` fails. Allowing those
classes (or ``weights_only=False``) would let a checkpoint file run code. This hook instead turns
that state into plain containers of tensors and numbers before a checkpoint is written, and back
after one is read, before mmengine uses it.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from ..registry import HOOKS

_BUFFER, _ARRAY = "__matbench_history_buffer__", "__matbench_ndarray__"


def to_plain(obj: Any) -> Any:
    """A copy of ``obj`` made only of dicts, lists, tuples, str/int/float/bool/None and tensors."""
    if isinstance(obj, HistoryBuffer):
        values, counts = obj.data
        return {_BUFFER: True, "values": to_plain(values), "counts": to_plain(counts),
                "max_length": obj.max_length}
    if isinstance(obj, np.ndarray):
        return {_ARRAY: True, "tensor": torch.from_numpy(np.ascontiguousarray(obj)), "dtype": str(obj.dtype)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_plain(v) for v in obj)
    if obj is None or isinstance(obj, (str, int, float, bool, torch.Tensor, torch.Size)):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} in a weights-only checkpoint")


def from_plain(obj: Any) -> Any:
    """Undo :func:`to_plain`."""
    if isinstance(obj, dict):
        if obj.get(_BUFFER) is True:
            return HistoryBuffer(from_plain(obj["values"]), from_plain(obj["counts"]), obj["max_length"])
        if obj.get(_ARRAY) is True:
            return obj["tensor"].numpy().astype(obj["dtype"], copy=False)
        return {k: from_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(from_plain(v) for v in obj)
    return obj


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Store the message hub and the meta data as plain data (see the module docstring)."""

    priority = "VERY_LOW"          # after every hook that adds to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in ("message_hub", "meta"):
            if key in checkpoint:
                checkpoint[key] = to_plain(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in ("message_hub", "meta"):
            if key in checkpoint:
                checkpoint[key] = from_plain(checkpoint[key])
