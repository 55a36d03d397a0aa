"""Mixed precision on the CPU: bf16 autocast for the training step.

mmengine's ``AmpOptimWrapper`` refuses to run without an accelerator, so ``matbench train --amp
bf16`` uses this wrapper on CPU machines. bf16 keeps fp32's exponent range, so no loss scaling is
needed. (It is slow on CPUs without bf16 units; it exists so that small runs, and CI, exercise
the same autocast path as GPU training.)"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from ..registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CpuAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward context is ``torch.autocast('cpu', dtype=torch.bfloat16)``."""

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        with super().optim_context(model), torch.autocast("cpu", dtype=torch.bfloat16):
            yield
