"""The two official GCA test procedures, as strategies.

Both run the network once at native size on the photo and trimap padded by NumPy's ``reflect``
mode (mirrored without repeating the edge pixel), force the trimap's known regions (classes by
the official thresholds, on the padded trimap) and crop the padding off:

* ``gca-test`` — ``main.py --phase=test`` (``OriginScale`` + ``Tester.test``), the procedure of
  the Composition-1k numbers: padded at the bottom and right only, up to the next multiple of
  32 (not at all when both sides already are).
* ``gca-demo`` — ``demo.py`` (alphamatting.com): 32 pixels on every side, plus the same bottom /
  right rounding to a multiple of 32.

The padding changes what the contextual attention sees, so the two give clearly different
alphas (on the alphamatting photos most unknown pixels differ by more than 2 grey levels).
"""
from __future__ import annotations

import torch
from torch import nn

from matbench.api import STRATEGIES, BaseStrategy, MatbenchError, run_network

from .network import trimap_classes


def reflect_indices(n: int, before: int, after: int, device: torch.device) -> torch.Tensor:
    """Indices of a length-``n`` axis padded as ``np.pad(..., mode="reflect")`` pads it, also
    when a pad is longer than the axis (the mirror then repeats; a single pixel is repeated)."""
    i = torch.arange(-before, n + after, device=device)
    if n == 1:
        return torch.zeros_like(i)
    period = 2 * (n - 1)
    i = i.abs() % period
    return torch.where(i > n - 1, period - i, i)


def reflect_pad(x: torch.Tensor, top: int, bottom: int, left: int, right: int) -> torch.Tensor:
    """N x C x H x W ``x`` padded with NumPy's ``reflect`` mode."""
    h, w = x.shape[2:]
    x = x.index_select(2, reflect_indices(h, top, bottom, x.device))
    return x.index_select(3, reflect_indices(w, left, right, x.device))


class GCAPadded(BaseStrategy):
    """One pass on the reflect-padded photo and trimap, known regions forced, padding cropped."""

    needs = (("alpha",),)
    #: pixels added on every side before the rounding to a multiple of 32
    border = 0
    divisor = 32

    def check_model(self, network: nn.Module) -> None:
        super().check_model(network)
        if "trimap" not in getattr(network, "inputs", ()):
            raise MatbenchError(f"strategy '{self.name}' runs trimap-based networks (GCA); "
                                f"'{type(network).__name__}' takes no trimap")

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if trimap is None:
            raise MatbenchError(f"strategy '{self.name}' needs a trimap")
        h, w = image.shape[2:]
        b = self.border
        pads = (b, b + (-h % self.divisor), b, b + (-w % self.divisor))
        image, trimap = reflect_pad(image, *pads), reflect_pad(trimap, *pads)
        alpha = self.pick(run_network(network, image, trimap), ("alpha",))
        classes = trimap_classes(trimap)
        alpha = alpha.masked_fill(classes == 2, 1.0).masked_fill(classes == 0, 0.0)
        return {"alpha": alpha[0, 0, b:b + h, b:b + w]}

    def label(self) -> str:
        return self.name


@STRATEGIES.register_module(name="gca-test")
class GCATest(GCAPadded):
    """GCA's main.py --phase=test (Composition-1k), reflect-padded bottom/right to a multiple of 32.

    The known regions are forced and the padding cropped (see the module docstring)."""

    name = "gca-test"
    border = 0


@STRATEGIES.register_module(name="gca-demo")
class GCADemo(GCAPadded):
    """GCA's demo.py (alphamatting.com), reflect-padded 32 on every side plus the rounding to 32.

    The known regions are forced and the padding cropped (see the module docstring)."""

    name = "gca-demo"
    border = 32
