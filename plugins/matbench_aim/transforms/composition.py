"""Stage-2 compositing as the official ``generate_composite``: fit the background to the
foreground, blur it at random, composite, add Gaussian noise at random."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from matbench.api import TRANSFORMS, MatbenchError

from .base import AimTransform, check_probability, sample_rng


@TRANSFORMS.register_module()
class ResizeBackground(AimTransform):
    """``bg`` resized to the foreground's size, as float32 in 0..255.

    The official code uses ``skimage.transform.resize`` (bilinear with a Gaussian anti-alias when
    shrinking); here OpenCV's area filter shrinks and bilinear enlarges, which needs no
    scikit-image and differs from it only in how much the shrunken background is smoothed.
    """

    def transform(self, results: dict) -> dict:
        import cv2

        h, w = results["alpha"].shape[:2]
        bg = results["bg"]
        if bg.shape[:2] != (h, w):
            shrink = bg.shape[0] * bg.shape[1] > h * w
            bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        results["bg"] = bg.astype(np.float32)
        return results


@TRANSFORMS.register_module()
class RandomBackgroundBlur(AimTransform):
    """With probability `prob`, a box blur of ``bg`` with a square kernel drawn from
    `kernel_sizes` (official: 0.5 and 20/30/40/50/60) — it narrows the sharpness gap between
    the foreground's photo and the background's."""

    def __init__(self, kernel_sizes: Sequence[int] = (20, 30, 40, 50, 60), prob: float = 0.5) -> None:
        self.kernel_sizes = tuple(int(k) for k in kernel_sizes)
        if not self.kernel_sizes or min(self.kernel_sizes) < 1:
            raise MatbenchError(f"RandomBackgroundBlur: kernel_sizes must be positive, got {kernel_sizes}")
        self.prob = check_probability(prob, "RandomBackgroundBlur prob")

    def transform(self, results: dict) -> dict:
        import cv2

        rng = sample_rng(results, type(self).__name__)
        if rng.random() < self.prob:
            k = self.kernel_sizes[int(rng.integers(len(self.kernel_sizes)))]
            results["bg"] = cv2.blur(results["bg"], (k, k))
            results["bg_blur"] = k
        return results


def composite(alpha8: np.ndarray, fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """``alpha * fg + (1 - alpha) * bg`` in float64, truncated to uint8 like the official
    ``.astype(np.uint8)`` (alpha = alpha8 / 255)."""
    a = (alpha8.astype(np.float64) / 255.0)[:, :, None]
    comp = a * fg.astype(np.float64) + (1.0 - a) * bg.astype(np.float64)
    return np.clip(comp, 0, 255).astype(np.uint8)


@TRANSFORMS.register_module()
class Composite(AimTransform):
    """``image`` = the uint8 composite of ``fg`` over ``bg`` with ``alpha`` (see :func:`composite`)."""

    def transform(self, results: dict) -> dict:
        results["image"] = composite(results["alpha"], results["fg"], results["bg"])
        return results


@TRANSFORMS.register_module()
class RandomGaussianNoise(AimTransform):
    """With probability `prob`, one field of N(0, sigma) noise added to each of `keys`, which
    become uint8 (official: 0.5, sigma 10, on composite, fg and bg alike).

    Values are clipped to 0..255 before the cast; the official ``np.uint8(img + gauss)`` lets
    them wrap around (a dark pixel pushed below 0 turns bright), which is a bug.
    """

    def __init__(self, sigma: float = 10.0, prob: float = 0.5, keys: Sequence[str] = ("image", "fg", "bg")) -> None:
        if float(sigma) < 0:
            raise MatbenchError(f"RandomGaussianNoise: sigma must be >= 0, got {sigma}")
        self.sigma = float(sigma)
        self.prob = check_probability(prob, "RandomGaussianNoise prob")
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        rng = sample_rng(results, type(self).__name__)
        if rng.random() < self.prob:
            keys = self._present(results, self.keys)
            if not keys:
                return results
            noise = rng.standard_normal(results[keys[0]].shape, dtype=np.float32) * np.float32(self.sigma)
            for k in keys:
                results[k] = np.clip(results[k] + noise, 0, 255).astype(np.uint8)
            results["noise"] = True
        return results
