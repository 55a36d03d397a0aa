"""The "dim" metric variant: SAD, MSE, Grad and Conn as mmagic 1.x computes them for Composition-1k.

Reference: open-mmlab/mmagic ``mmagic/evaluation/metrics/{sad,matting_mse,gradient_error,
connectivity_error}.py`` with default arguments, after ``BaseMattor.postprocess``; see
``shared/DIM_VARIANT.md``. Golden values from mmagic's own code: ``tests/fixtures/dim_golden.json``.
"""
from __future__ import annotations

import numpy as np

from matbench.api import METRICS, ImageMetric

from .connectivity import conn
from .gradient import grad
from .postprocess import prepare_dim
from .sad_mse import mse, sad

__all__ = ["DimMetric", "conn", "dim_metrics", "grad", "mse", "prepare_dim", "sad"]


def dim_metrics(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> dict[str, float]:
    """SAD, MSE, Grad and Conn of one image, from a float prediction, float alpha and uint8 trimap."""
    p, g = prepare_dim(pred, alpha, trimap)
    return {"sad": sad(p, g), "mse": mse(p, g, trimap), "grad": grad(p, g, trimap), "conn": conn(p, g, trimap)}


@METRICS.register_module(name="dim")
class DimMetric(ImageMetric):
    """Composition-1k convention, as mmagic computes it.

    The prediction is clamped, forced to the trimap's known values and rounded to 8 bits (half to
    even). SAD (/1000) and the MSE numerator run over every pixel, MSE divides by the number of
    unknown pixels (no /1000); Grad (min-max normalised, 9x9 Gaussian derivative, /1000) and Conn
    (4-connectivity, thresholds 0..1 step 0.1, /1000) sum over unknown pixels only. The dataset
    value of each metric is the plain mean over images.
    """

    variant = "dim"
    keys = ("sad", "mse", "grad", "conn")
    title = "Composition-1k, as mmagic computes it"
    columns = (("sad", "SAD", 2), ("mse", "MSE", 4), ("grad", "Grad.", 2), ("conn", "Conn.", 2))
    note = ("dim variant: the prediction is set to the trimap on known pixels; MSE is the sum of squared "
            "errors divided by the number of unknown pixels, not a per-pixel mean over the image; "
            "Grad. and Conn. are summed over the unknown region.")

    @staticmethod
    def compute_image(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> dict[str, float]:
        return dim_metrics(pred, alpha, trimap)
