"""The global decoder's targets: the stage-1 trimap and the stage-2 USR, and the fg/bg estimate
that the composition loss needs when no foreground/background files exist."""
from __future__ import annotations

import numpy as np

from matbench.api import TRANSFORMS, InputError, MatbenchError

from ..usr import make_usr, trimap_from_alpha
from .base import AimTransform


@TRANSFORMS.register_module()
class GenerateTrimap(AimTransform):
    """Stage 1: ``trimap`` from the mask by elliptic dilate/erode (official kernel: 10)."""

    def __init__(self, kernel_size: int = 10) -> None:
        if int(kernel_size) < 1:
            raise MatbenchError(f"GenerateTrimap: kernel_size must be >= 1, got {kernel_size}")
        self.kernel_size = int(kernel_size)

    def transform(self, results: dict) -> dict:
        results["trimap"] = trimap_from_alpha(results["alpha"], self.kernel_size)
        return results


@TRANSFORMS.register_module()
class GenerateUSR(AimTransform):
    """Stage 2: the unified semantic representation as ``trimap``, computed from the alpha and the
    image ``type`` (SO/STM/NS) unless a ``usr/`` file was loaded (official kernel: 30)."""

    def __init__(self, kernel_size: int = 30) -> None:
        if int(kernel_size) < 1:
            raise MatbenchError(f"GenerateUSR: kernel_size must be >= 1, got {kernel_size}")
        self.kernel_size = int(kernel_size)

    def transform(self, results: dict) -> dict:
        if results.get("trimap") is not None:
            return results
        kind = results.get("type")
        if kind not in ("SO", "STM", "NS"):
            raise InputError(results.get("alpha_path", results.get("name", "?")),
                             f"no USR file and no image type (SO/STM/NS) to compute one (type: {kind!r})")

        results["trimap"] = np.asarray(make_usr(results["alpha"], kind, self.kernel_size), dtype=np.uint8)
        return results


@TRANSFORMS.register_module()
class EstimateForegroundBackground(AimTransform):
    """``fg = image * alpha`` and ``bg = image * (1 - alpha)`` (float32, 0..255), as the official
    ``process_fgbg`` does for a photo without separate layers; kept when already loaded."""

    def transform(self, results: dict) -> dict:
        a = (results["alpha"].astype(np.float32) / 255.0)[:, :, None]
        image = results["image"]
        if results.get("fg") is None:
            results["fg"] = image * a
        if results.get("bg") is None:
            results["bg"] = image * (1.0 - a)
        return results
