"""Crop, flip and resize, applied alike to every per-pixel array of a sample."""
from __future__ import annotations

from typing import Sequence, Union

import numpy as np

from matbench.api import TRANSFORMS, MatbenchError

from .base import SPATIAL_KEYS, AimTransform, check_probability, cv2_interpolation, sample_rng

ANCHORS = ("center", "corner")


@TRANSFORMS.register_module()
class RandomTransitionCrop(AimTransform):
    """A square crop whose side is drawn from `crop_sizes` (official: 640/960/1280), placed on a
    transition pixel (``trimap == 128``) with probability `transition_prob`, anywhere otherwise.

    * A drawn size larger than the image's shorter side falls back to `fallback_size` (official:
      320); an image shorter than that is cropped to its shorter side (the official code crashes).
    * ``anchor="center"`` centres the crop on the transition pixel (shifted inside the image),
      as the official comment intends; ``anchor="corner"`` reproduces what the official code
      actually does: the pixel becomes the crop's top-left corner, chosen among those that leave
      room for the crop.
    * When the trimap has no transition pixel, the crop is placed uniformly at random.

    Records ``crop`` = (top, left, size).
    """

    def __init__(self, crop_sizes: Sequence[int] = (640, 960, 1280), fallback_size: int = 320,
                 transition_prob: float = 0.5, anchor: str = "center", keys: Sequence[str] = SPATIAL_KEYS) -> None:
        self.crop_sizes = tuple(int(s) for s in crop_sizes)
        if not self.crop_sizes or min(self.crop_sizes) < 1 or int(fallback_size) < 1:
            raise MatbenchError(f"RandomTransitionCrop: sizes must be positive, got {crop_sizes} / {fallback_size}")
        if anchor not in ANCHORS:
            raise MatbenchError(f"RandomTransitionCrop: anchor must be one of {', '.join(ANCHORS)}, got {anchor!r}")
        self.fallback_size = int(fallback_size)
        self.transition_prob = check_probability(transition_prob, "RandomTransitionCrop transition_prob")
        self.anchor = anchor
        self.keys = tuple(keys)

    def crop_size(self, h: int, w: int, rng: np.random.Generator) -> int:
        size = self.crop_sizes[int(rng.integers(len(self.crop_sizes)))]
        if size > min(h, w):
            size = self.fallback_size
        return min(size, h, w)

    def corner(self, trimap: np.ndarray, size: int, rng: np.random.Generator) -> tuple[int, int]:
        h, w = trimap.shape[:2]
        on_transition = rng.random() < self.transition_prob
        if on_transition:
            region = trimap if self.anchor == "center" else trimap[:h - size + 1, :w - size + 1]
            candidates = np.flatnonzero(region == 128)
            if candidates.size:
                y, x = divmod(int(candidates[rng.integers(candidates.size)]), region.shape[1])
                if self.anchor == "corner":
                    return y, x
                return min(max(y - size // 2, 0), h - size), min(max(x - size // 2, 0), w - size)
        return int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))

    def transform(self, results: dict) -> dict:
        rng = sample_rng(results, type(self).__name__)
        h, w = results["alpha"].shape[:2]
        size = self.crop_size(h, w, rng)
        top, left = self.corner(results["trimap"], size, rng)
        for k in self._present(results, self.keys):
            results[k] = results[k][top:top + size, left:left + size]
        results["crop"] = (top, left, size)
        return results


@TRANSFORMS.register_module()
class RandomFlip(AimTransform):
    """A horizontal flip of every array in `keys` with probability `prob` (official: 0.5);
    records ``flip``."""

    def __init__(self, prob: float = 0.5, keys: Sequence[str] = SPATIAL_KEYS) -> None:
        self.prob = check_probability(prob, "RandomFlip prob")
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        rng = sample_rng(results, type(self).__name__)
        flip = bool(rng.random() < self.prob)
        if flip:
            for k in self._present(results, self.keys):
                results[k] = results[k][:, ::-1]
        results["flip"] = flip
        return results


@TRANSFORMS.register_module()
class ResizeTo(AimTransform):
    """Every array in `keys` resized to `size` (an int for a square, or (height, width)), each in
    its own dtype (OpenCV rounds uint8 results), ignoring the aspect ratio (official: 320x320,
    bilinear for all).

    The official code resizes the trimap/USR bilinearly too, so pixels along class borders take
    values between 0, 128 and 255; its losses then read ``== 128`` as transition, ``0`` as
    background, ``255`` as foreground and anything else as transition (cross-entropy). That is
    kept by default (``trimap_interpolation="bilinear"``); ``"nearest"`` keeps 0/128/255 only.
    """

    def __init__(self, size: Union[int, Sequence[int]] = 320, interpolation: str = "bilinear",
                 trimap_interpolation: str = "bilinear", keys: Sequence[str] = SPATIAL_KEYS) -> None:
        hw = (int(size), int(size)) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
        if len(hw) != 2 or min(hw) < 1:
            raise MatbenchError(f"ResizeTo: size must be a positive int or (height, width), got {size!r}")
        self.size = hw
        self.interpolation = interpolation
        self.trimap_interpolation = trimap_interpolation
        self._flags = (cv2_interpolation(interpolation), cv2_interpolation(trimap_interpolation))
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        import cv2

        h, w = self.size
        for k in self._present(results, self.keys):
            flag = self._flags[1] if k == "trimap" else self._flags[0]
            results[k] = cv2.resize(np.ascontiguousarray(results[k]), (w, h), interpolation=flag)
        return results
