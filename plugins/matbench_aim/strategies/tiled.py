"""``tiled``: the hybrid strategy for images whose local pass does not fit in memory. The global
decision comes from one coarse pass as in ``hybrid``; the local alpha at ``local_ratio`` is
computed in overlapping square windows of ``tile`` pixels (of the scaled image) and blended with
weights that fall linearly to the window edges, so no seam shows. Memory is bounded by the tile
size, not by the image. A network without a global output (a trimap-based one, given the
trimap window by window) gets the blended windows as its alpha: ``local_ratio=1`` keeps it
at native size."""
from __future__ import annotations

import torch
from torch import nn

from matbench.api import STRATEGIES, MatbenchError, output_names, resize_trimap
from matbench.api import skimage014_resize as resize

from .full import run_padded
from .hybrid import Hybrid, fuse


def _starts(n: int, tile: int, step: int) -> list[int]:
    """Window origins covering [0, n): every ``step``, the last one flush with the end."""
    if n <= tile:
        return [0]
    starts = list(range(0, n - tile, step))
    return starts + [n - tile]


def _ramp(n: int, overlap: int, device: torch.device) -> torch.Tensor:
    """1-D blending weights: rising over ``overlap`` pixels at both ends, never zero."""
    i = torch.arange(n, device=device, dtype=torch.float32)
    edge = torch.minimum(i + 1, n - i) / (overlap + 1)
    return edge.clamp(max=1.0)


@STRATEGIES.register_module(name="tiled")
class Tiled(Hybrid):
    """Hybrid whose local pass runs in overlapping, blended tiles (large images)."""

    def __init__(self, global_ratio: float = 1 / 4, local_ratio: float = 1 / 2, tile: int = 1024,
                 overlap: int = 128, divisor: int = 32, max_size: int = 1600) -> None:
        super().__init__(global_ratio, local_ratio, divisor, max_size)
        if not 0 <= 2 * overlap < tile:
            raise ValueError(f"tiled: need 0 <= 2 * overlap < tile, got tile={tile}, overlap={overlap}")
        self.tile, self.overlap = tile, overlap

    def check_model(self, network: nn.Module) -> None:
        if "global" in output_names(network):
            return super().check_model(network)
        if not {"local", "alpha"} & set(output_names(network)):
            raise MatbenchError(f"strategy 'Tiled' needs a model with a 'local' or 'alpha' output; "
                                f"'{type(network).__name__}' gives {', '.join(output_names(network))}")

    def local_pass(self, network: nn.Module, image: torch.Tensor,
                   trimap: torch.Tensor | None = None) -> torch.Tensor:
        """The local alpha of the image scaled by ``local_ratio`` (no size cap, no divisor: the
        windows are padded instead), assembled from windows."""
        h, w = image.shape[2:]
        size = (max(1, int(h * self.local_ratio)), max(1, int(w * self.local_ratio)))
        scaled = resize(image, size) if size != (h, w) else image
        trimap = resize_trimap(trimap, size)
        total = torch.zeros((1, 1) + size, device=image.device)
        weight = torch.zeros_like(total)
        step = self.tile - self.overlap
        for y in _starts(size[0], self.tile, step):
            for x in _starts(size[1], self.tile, step):
                window = scaled[:, :, y:y + self.tile, x:x + self.tile]
                part = trimap[:, :, y:y + self.tile, x:x + self.tile] if trimap is not None else None
                local = self.pick(run_padded(network, window, self.divisor, part), ("local", "alpha"))
                th, tw = window.shape[2:]
                wgt = _ramp(th, self.overlap, image.device)[:, None] * _ramp(tw, self.overlap, image.device)[None]
                total[:, :, y:y + th, x:x + tw] += local * wgt
                weight[:, :, y:y + th, x:x + tw] += wgt
        return total / weight

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        local = self.local_pass(network, image, trimap)
        full = resize(local, image.shape[2:]) if local.shape[2:] != image.shape[2:] else local
        if "global" not in output_names(network):
            return {"alpha": full[0, 0]}
        return fuse(full, self.global_pass(network, image, trimap))
