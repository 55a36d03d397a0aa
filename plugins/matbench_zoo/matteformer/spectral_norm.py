"""Spectral normalisation as GCA-Matting implemented it (its ``networks/ops.py``, reused by
MatteFormer): the wrapped convolution keeps ``weight_bar`` (the raw weight) and the singular
vector estimates ``weight_u`` / ``weight_v`` as parameters, so checkpoints hold
``<name>.module.weight_{u,v,bar}``. In eval mode the weight is ``weight_bar / (u . W v)`` with the
stored vectors (no power iteration); in training mode one power iteration updates them first.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _unit(v: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    return v / (v.norm() + eps)


class SpectralNorm(nn.Module):
    """A ``Conv2d`` or ``ConvTranspose2d`` (``module``) whose weight is divided by its estimated
    largest singular value at every call."""

    def __init__(self, module: nn.Conv2d | nn.ConvTranspose2d, power_iterations: int = 1) -> None:
        super().__init__()
        self.module = module
        self.power_iterations = power_iterations
        weight = module.weight.data
        rows = weight.shape[0]
        del module._parameters["weight"]
        u = _unit(weight.new_empty(rows).normal_(0, 1))
        v = _unit(weight.new_empty(weight[0].numel()).normal_(0, 1))
        module.register_parameter("weight_u", nn.Parameter(u, requires_grad=False))
        module.register_parameter("weight_v", nn.Parameter(v, requires_grad=False))
        module.register_parameter("weight_bar", nn.Parameter(weight))

    @torch.no_grad()
    def power_iteration(self) -> None:
        """One step of the power method on the stored vectors (what training mode does per call)."""
        m = self.module
        matrix = m.weight_bar.data.view(m.weight_bar.shape[0], -1)
        for _ in range(self.power_iterations):
            m.weight_v.data = _unit(torch.mv(matrix.t(), m.weight_u.data))
            m.weight_u.data = _unit(torch.mv(matrix, m.weight_v.data))

    def normalised_weight(self) -> torch.Tensor:
        m = self.module
        w = m.weight_bar
        sigma = m.weight_u.dot(w.view(w.shape[0], -1).mv(m.weight_v))
        return w / sigma.expand_as(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.module.training:
            self.power_iteration()
        m, weight = self.module, self.normalised_weight()
        if isinstance(m, nn.ConvTranspose2d):
            return F.conv_transpose2d(x, weight, m.bias, m.stride, m.padding, m.output_padding, m.groups, m.dilation)
        return m._conv_forward(x, weight, m.bias)
