"""Weights that are the same on every machine: for smoke tests (``--random-weights``) and for
parity tests against reference implementations without shipping real checkpoints."""
from __future__ import annotations

import math

import torch
from torch import nn


@torch.no_grad()
def fill_deterministic(module: nn.Module, seed: int = 0, gain: float = 1.0) -> nn.Module:
    """Fill every tensor of ``module.state_dict()`` from one seeded generator, in sorted-key order.

    Weights with a fan-in (conv, linear) get ``normal * gain / sqrt(fan_in)``, so activations stay
    of order one through deep networks; 1-D tensors of normalisation layers get ``1 + 0.1 *
    normal`` (``weight``, ``running_var``, the latter made positive) or ``0.1 * normal`` (the
    rest); integer buffers are left alone. Tensors shared under several keys (module aliases)
    are filled once, under their first key. Returns ``module``.
    """
    gen = torch.Generator().manual_seed(seed)
    seen: set[int] = set()
    state = module.state_dict(keep_vars=True)
    for key in sorted(state):
        tensor = state[key]
        if not tensor.is_floating_point() or tensor.data_ptr() in seen:
            continue
        seen.add(tensor.data_ptr())
        noise = torch.randn(tensor.shape, generator=gen, dtype=torch.float64)
        name = key.rsplit(".", 1)[-1]
        if tensor.dim() >= 2:
            value = noise * gain / math.sqrt(tensor[0].numel())
        elif name == "running_var":
            value = 1 + 0.1 * noise.abs()
        elif name == "weight":
            value = 1 + 0.1 * noise
        else:
            value = 0.1 * noise
        tensor.data.copy_(value.to(tensor.dtype))
    return module


@torch.no_grad()
def recalibrate_batchnorm(module: nn.Module, batches: list[tuple]) -> nn.Module:
    """Re-estimate every BatchNorm's running statistics as the exact average over ``batches`` (each
    a tuple of ``module``'s forward arguments), leaving the weights alone; returns ``module`` in
    eval mode.

    Random weights give activations whose scale drifts layer by layer; running statistics measured
    on photo-like inputs bring each normalised layer back to zero mean and unit variance, so a
    seeded network's outputs span their range instead of saturating (what golden tests against
    official code need to mean anything). Deterministic for the same inputs on the same machine.
    """
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.momentum, m.training) for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None                     # a cumulative average over the batches
    module.train()
    try:
        for args in batches:
            module(*args)
    finally:
        for m, (momentum, _) in zip(norms, saved):
            m.momentum = momentum
        module.eval()
    return module
