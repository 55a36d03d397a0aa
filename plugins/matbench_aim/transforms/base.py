"""`AimTransform`, the base of matbench_aim's training transforms, and the helpers they share.

A transform takes the results dict of one sample and returns it, as mmcv's ``BaseTransform``
does (without depending on mmcv). Random transforms draw only from ``results["rng"]``, the
``numpy.random.Generator`` that the training datasets seed from (seed, epoch, index): no global
``random`` / ``np.random`` state, so a sample is the same whichever DataLoader worker makes it.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from matbench.api import MatbenchError

#: The per-pixel arrays of a training sample: RGB image (uint8 HxWx3), alpha (uint8 HxW, 0..255),
#: trimap / USR (uint8 HxW), foreground and background (HxWx3, uint8 or float in 0..255).
SPATIAL_KEYS = ("image", "alpha", "trimap", "fg", "bg")

INTERPOLATIONS = ("nearest", "bilinear", "area", "bicubic")


def cv2_interpolation(name: str) -> int:
    """The OpenCV flag for an interpolation name (one of :data:`INTERPOLATIONS`)."""
    import cv2

    flags = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA,
             "bicubic": cv2.INTER_CUBIC}
    if name not in flags:
        raise MatbenchError(f"unknown interpolation '{name}' (expected one of {', '.join(INTERPOLATIONS)})")
    return flags[name]


def sample_rng(results: dict, who: str) -> np.random.Generator:
    """The sample's generator; refusing to run without one keeps every draw reproducible."""
    rng = results.get("rng")
    if not isinstance(rng, np.random.Generator):
        raise MatbenchError(f"{who} needs results['rng'], a numpy Generator (the matbench_aim training "
                            "datasets provide one per sample)")
    return rng


def check_probability(value: float, what: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise MatbenchError(f"{what} must be in [0, 1], got {value}")
    return value


class AimTransform:
    """Base class: ``__call__`` runs :meth:`transform` on the results dict."""

    def __call__(self, results: dict) -> dict:
        return self.transform(results)

    def transform(self, results: dict) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _present(self, results: dict, keys: Sequence[str]) -> list[str]:
        return [k for k in keys if results.get(k) is not None]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"
