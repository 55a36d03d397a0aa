"""GCA's own spectral normalisation (``networks/ops.py`` of the official code), not PyTorch's.

The wrapped convolution keeps three parameters instead of its ``weight``: ``weight_bar`` (the
raw weight), ``weight_u`` (one entry per row of the weight seen as a matrix whose rows are its
first dimension — the output channels of a ``Conv2d``, the *input* channels of a
``ConvTranspose2d``) and ``weight_v`` (one per column). The convolution runs with
``weight_bar / sigma``, ``sigma = u . (W v)``. In training mode every forward first moves u and v
one power iteration on; in eval mode the stored vectors are used as they are, so the released
checkpoints define sigma completely. The wrapper sits at ``<name>.module``, which is why the
checkpoint keys read ``conv1.module.weight_bar``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def unit(v: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """``v`` scaled to length one (the official helper's epsilon, added to the norm)."""
    return v / (v.norm() + eps)


def power_iteration(matrix: torch.Tensor, u: torch.Tensor, v: torch.Tensor,
                    steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``steps`` power iterations towards the top singular vectors of ``matrix``: v from u, then u from v."""
    for _ in range(steps):
        v = unit(matrix.t().mv(u))
        u = unit(matrix.mv(v))
    return u, v


class SpectralNorm(nn.Module):
    """A ``Conv2d`` or ``ConvTranspose2d`` run with its weight divided by an estimate of its
    largest singular value (see the module docstring); ``power_iterations`` steps per training
    forward, none in eval mode."""

    def __init__(self, module: nn.Module, power_iterations: int = 1) -> None:
        super().__init__()
        self.module = module
        self.power_iterations = power_iterations
        weight = module.weight
        rows = weight.shape[0]
        u = unit(weight.data.new_empty(rows).normal_(0, 1))
        v = unit(weight.data.new_empty(weight[0].numel()).normal_(0, 1))
        del module._parameters["weight"]
        # registered in the official order (after the convolution's own bias)
        module.register_parameter("weight_u", nn.Parameter(u, requires_grad=False))
        module.register_parameter("weight_v", nn.Parameter(v, requires_grad=False))
        module.register_parameter("weight_bar", nn.Parameter(weight.data))

    def normalized_weight(self) -> torch.Tensor:
        """``weight_bar / sigma``; in training mode u and v are advanced first."""
        conv = self.module
        bar = conv.weight_bar
        matrix = bar.view(bar.shape[0], -1)
        if conv.training:
            u, v = power_iteration(matrix.data, conv.weight_u.data, conv.weight_v.data, self.power_iterations)
            conv.weight_u.data, conv.weight_v.data = u, v
        sigma = conv.weight_u.dot(matrix.mv(conv.weight_v))
        return bar / sigma.expand_as(bar)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv, weight = self.module, self.normalized_weight()
        if isinstance(conv, nn.ConvTranspose2d):
            return F.conv_transpose2d(x, weight, conv.bias, conv.stride, conv.padding, conv.output_padding,
                                      conv.groups, conv.dilation)
        return F.conv2d(x, weight, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups)
