"""P3M-Net's test procedures (``core/test.py`` of github.com/JizhiziLi/P3M, ``inference_img``).

Its code is AIM's ``inference_img`` with other ratios (the same lines, the same scikit-image 0.14
resizing, the same fusion), so the AIM plugin's ``resize`` and ``hybrid`` strategies run it; these
register them under P3M's names with P3M's ratios:

* ``p3m-resize``: RESIZE, one pass at 1/2, the network's fusion resized back; the setting of the
  paper's numbers (``scripts/test_dataset.sh``: "we use RESIZE (1/2) as in the paper").
* ``p3m-hybrid``: HYBRID, the global decision of a 1/2 pass, the local alpha of a 1/1 pass (the
  image floored to multiples of 32), kept where the upsized trimap is not exactly 0 or 255; the
  setting of the README's sample results ("Hybrid (1 & 1/2)", ``scripts/test_samples.sh``).

Model-input sides are ``int(side * ratio)`` floored to a multiple of 32 and capped at 1600.
``short_side=1080`` adds what the official SAMPLES mode (``test_samples``) does around either:
a photo whose shorter side exceeds 1080 is first shrunk (OpenCV bilinear) to that shorter side,
and the alpha, times 255, is resized back (OpenCV bilinear) to the photo's size and truncated to
8-bit levels (what that mode writes).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch
from torch import nn

from matbench.api import STRATEGIES, MatbenchError
from matbench_aim.strategies.hybrid import Hybrid
from matbench_aim.strategies.resize import Resize

#: core/config.py MAX_SIZE_H / MAX_SIZE_W (its SHORTER_PATH_LIMITATION, 1080, is ``short_side``'s official value)
MAX_SIDE = 1600


def _fraction(x: float) -> str:
    return str(Fraction(x).limit_denominator(64))


class SamplesShrink:
    """The official SAMPLES mode around a strategy's ``run`` (``short_side`` > 0): shrink a
    photo whose shorter side exceeds ``short_side``, resize the alpha back."""

    short_side: int = 0

    def _check_short_side(self) -> None:
        if self.short_side < 0:
            raise MatbenchError(f"{type(self).__name__}: short_side must be 0 (off) or a number of pixels, "
                                f"got {self.short_side}")

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        h, w = image.shape[2:]
        if not self.short_side or min(h, w) <= self.short_side:
            return super().run(network, image, trimap)
        import cv2

        # core/test.py test_samples: the shorter side becomes short_side, the other int(short * long / short)
        if h >= w:
            size = (int(self.short_side * h / w), self.short_side)
        else:
            size = (self.short_side, int(self.short_side * w / h))
        rgb = (image[0].permute(1, 2, 0) * 255).round().to(torch.uint8).cpu().numpy()
        small = cv2.resize(rgb, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
        small_image = torch.from_numpy(small).to(image.device).permute(2, 0, 1)[None].double() / 255
        result = super().run(network, small_image, None)
        alpha255 = cv2.resize(result["alpha"].cpu().numpy() * 255.0, (w, h), interpolation=cv2.INTER_LINEAR)
        # test_samples saves alpha255.astype(np.uint8): its output is those 8-bit levels, which
        # (k / 255) * 255 == k keeps exactly through the truncate (or round) rule
        return {"alpha": torch.from_numpy(np.floor(alpha255) / 255).to(image.device)}


@STRATEGIES.register_module(name="p3m-resize")
class P3MResize(SamplesShrink, Resize):
    """P3M-Net's RESIZE test: one pass at 1/2, the fused alpha resized back (the paper's setting)."""

    def __init__(self, ratio: float = 1 / 2, divisor: int = 32, max_size: int = MAX_SIDE, short_side: int = 0) -> None:
        super().__init__(ratio, divisor, max_size)
        self.short_side = short_side
        self._check_short_side()

    def label(self) -> str:
        """The table's "Test" cell as the P3M README writes it: "Resize (1/2)"."""
        return f"Resize ({_fraction(self.ratio)})" + (f", samples {self.short_side}" if self.short_side else "")


@STRATEGIES.register_module(name="p3m-hybrid")
class P3MHybrid(SamplesShrink, Hybrid):
    """P3M-Net's HYBRID test: global decision at 1/2, local alpha at 1/1, fused at full size."""

    def __init__(self, global_ratio: float = 1 / 2, local_ratio: float = 1.0, divisor: int = 32,
                 max_size: int = MAX_SIDE, short_side: int = 0) -> None:
        super().__init__(global_ratio, local_ratio, divisor, max_size)
        self.short_side = short_side
        self._check_short_side()

    def label(self) -> str:
        """"Hybrid (1 & 1/2)" (local & global), as the P3M README writes it."""
        return (f"Hybrid ({_fraction(self.local_ratio)} & {_fraction(self.global_ratio)})"
                + (f", samples {self.short_side}" if self.short_side else ""))
