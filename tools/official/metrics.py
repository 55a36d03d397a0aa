"""The ten per-image numbers of the official AIM-500 evaluation (core/test.py ``test_aim500``)."""
from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image

from .loader import module

#: in the order test_aim500 logs them
METRIC_KEYS = ("sad", "mse", "mad", "sad_trimap", "mse_trimap", "mad_trimap", "sad_fg", "sad_bg",
               "conn", "grad")


def read_gray(path: str | os.PathLike) -> np.ndarray:
    """A PNG read as core/test.py reads masks and trimaps: PIL, first channel if it has several."""
    a = np.array(Image.open(path))
    return a[:, :, 0] if a.ndim > 2 else a


def official_metrics(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> dict[str, float]:
    """The official values for one image, from the five core/evaluate.py calls of test_aim500.

    ``pred`` and ``alpha`` in [0, 1] (taken as float64: test.py has the network's float64 output
    and ``png / 255.``), ``trimap`` uint8 0/128/255. ``mse_trimap`` and ``mad_trimap`` are inf
    or nan when the trimap has no unknown pixel (the official division by zero); ``grad`` is the
    official float32 value, converted exactly."""
    ev = module("evaluate")
    pred, alpha = np.asarray(pred, np.float64), np.asarray(alpha, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sad_trimap, mse_trimap, mad_trimap = ev.calculate_sad_mse_mad(pred, alpha, trimap)
        sad, mse, mad = ev.calculate_sad_mse_mad_whole_img(pred, alpha)
        sad_fg, sad_bg = ev.calculate_sad_fgbg(pred, alpha, trimap)
        conn = ev.compute_connectivity_loss_whole_image(pred, alpha)
        grad = ev.compute_gradient_whole_image(pred, alpha)
    values = (sad, mse, mad, sad_trimap, mse_trimap, mad_trimap, sad_fg, sad_bg, conn, grad)
    return {key: float(value) for key, value in zip(METRIC_KEYS, values)}
