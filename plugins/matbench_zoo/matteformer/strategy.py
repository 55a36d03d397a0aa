"""``matteformer-inference``: the official test procedure (MatteFormer's ``inference.py``).

1. The photo and its trimap are reflect-padded (edge not repeated) by 32 pixels on every side,
   plus the bottom / right rounding up to a multiple of 32.
2. One pass gives the OS1, OS4 and OS8 alphas. Progressive refinement: start from OS8; where the
   OS8 alpha is uncertain (neither < 1/255 nor > 1 - 1/255), dilated by an ellipse of
   ``refine_width1 // 2`` (15), take OS4; then where that result is uncertain, dilated by
   ``refine_width2 // 2`` (7), take OS1. The uncertainty bands are computed on a copy resized
   (nearest) to 640 x 640 whatever the aspect ratio, and resized back (nearest).
3. Known trimap regions are forced (background 0, foreground 1), the padding is cropped; the
   script then saves ``(alpha * 255).astype(np.uint8)`` (the network's ``save_rule``).
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import STRATEGIES, BaseStrategy, MatbenchError, run_network

from .network import trimap_classes

#: reflect padding on every side, before the rounding up to the divisor
MARGIN = 32
DIVISOR = 32
#: side of the square copy the uncertainty bands are computed on
MASK_SIZE = 640
#: the thresholds of "certain" alpha, compared in float32 as the script's NumPy code does
LOW, HIGH = np.float32(1.0 / 255.0), np.float32(1.0 - 1.0 / 255.0)


def reflect_index(n: int, before: int, after: int) -> np.ndarray:
    """Source indices of NumPy's ``reflect`` padding of a length-``n`` axis (any pad width, even
    one longer than the axis)."""
    return np.pad(np.arange(n), (before, after), mode="reflect")


def uncertain_band(alpha: torch.Tensor, kernel: int) -> torch.Tensor:
    """Where ``alpha`` (N x 1 x H x W, float32) is neither below 1/255 nor above 1 - 1/255, judged
    on its 640 x 640 nearest copy and dilated there by a ``kernel`` x ``kernel`` ellipse, resized
    back (nearest): a boolean N x 1 x H x W on ``alpha``'s device."""
    h, w = alpha.shape[2:]
    small = F.interpolate(alpha, size=(MASK_SIZE, MASK_SIZE), mode="nearest").cpu().numpy()
    unsure = ((small >= LOW) & (small <= HIGH)).astype(np.uint8)
    ellipse = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel, kernel))
    band = np.stack([cv2.dilate(unsure[n, 0], ellipse) for n in range(len(unsure))])[:, None]
    # resized back in float64, as the script does: nearest's source rows depend on the dtype
    band = torch.from_numpy(band.astype(np.float64)).to(alpha.device)
    return F.interpolate(band, size=(h, w), mode="nearest") > 0


@STRATEGIES.register_module(name="matteformer-inference")
class MatteFormerInference(BaseStrategy):
    """MatteFormer's inference.py: reflect padding (32 + rounding to 32), OS8 -> OS4 -> OS1
    refinement in dilated uncertainty bands, known regions forced."""

    needs = (("alpha",), ("alpha_os4",), ("alpha_os8",))

    def __init__(self, refine_width1: int = 30, refine_width2: int = 15) -> None:
        for name, width in (("refine_width1", refine_width1), ("refine_width2", refine_width2)):
            if not 2 <= width <= 59:
                raise MatbenchError(f"matteformer-inference: {name} must be in [2, 59] (the script dilates by an "
                                    f"ellipse of width // 2, 1 to 29 pixels), got {width}")
        self.refine_width1, self.refine_width2 = refine_width1, refine_width2

    def label(self) -> str:
        """The "Test" cell of tables: the official script, and the widths when not the config's."""
        if (self.refine_width1, self.refine_width2) == (30, 15):
            return "inference.py"
        return f"inference.py (widths {self.refine_width1}/{self.refine_width2})"

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if trimap is None:
            raise MatbenchError("matteformer-inference needs a trimap (a trimap-based network)")
        h, w = image.shape[2:]
        rows = torch.from_numpy(reflect_index(h, MARGIN, MARGIN + -h % DIVISOR)).to(image.device)
        cols = torch.from_numpy(reflect_index(w, MARGIN, MARGIN + -w % DIVISOR)).to(image.device)
        image = image.index_select(2, rows).index_select(3, cols)
        trimap = trimap.index_select(2, rows).index_select(3, cols)

        outputs = run_network(network, image, trimap)
        os1, os4, os8 = (outputs[name].float() for name in ("alpha", "alpha_os4", "alpha_os8"))
        alpha = os8.clone()
        band = uncertain_band(alpha, self.refine_width1 // 2)
        alpha[band] = os4[band]
        band = uncertain_band(alpha, self.refine_width2 // 2)
        alpha[band] = os1[band]

        classes = trimap_classes(trimap)
        alpha = alpha.masked_fill(classes == 0, 0.0).masked_fill(classes == 2, 1.0)
        return {"alpha": alpha[0, 0, MARGIN:MARGIN + h, MARGIN:MARGIN + w].double()}
