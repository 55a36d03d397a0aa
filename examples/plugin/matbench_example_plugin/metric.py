"""The "sad-only" metric variant: the sum of absolute differences over the whole image and over
the trimap's unknown region, nothing else (a quick check while developing a method)."""
from __future__ import annotations

import numpy as np

from matbench.api import METRICS, ImageMetric


def sad_values(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> dict[str, float]:
    """SAD / 1000 of one image over all pixels and over the unknown (128) pixels."""
    err = np.abs(pred - alpha)
    return {"sad": float(err.sum() / 1000), "sad_unknown": float(err[trimap == 128].sum() / 1000)}


@METRICS.register_module(name="sad-only")
class SadOnlyMetric(ImageMetric):
    """SAD over the whole image and over the unknown region, in the official units (/1000)."""

    variant = "sad-only"                   # the name written in results files and captions
    keys = ("sad", "sad_unknown")          # what compute_image returns; "sad" feeds the group columns
    title = "SAD only (example plugin)"
    columns = (("sad", "SAD", 2), ("sad_unknown", "Unknown SAD", 2))   # (key, header, decimals)
    note = "sad-only variant: no prediction is clipped or forced to the trimap's known values."
    uses_trimap = True                     # sad_unknown reads the trimap

    @staticmethod
    def compute_image(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> dict[str, float]:
        # pred, alpha: float64 H x W in [0, 1]; trimap: uint8 H x W, 0 / 128 / 255
        return sad_values(pred, alpha, trimap)
