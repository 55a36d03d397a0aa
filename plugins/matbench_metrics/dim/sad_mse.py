"""SAD and MSE, "dim" variant: mmagic's ``SAD`` and ``MattingMSE`` on post-processed maps."""
from __future__ import annotations

import numpy as np


def sad(pred: np.ndarray, gt: np.ndarray) -> float:
    """Sum of absolute differences over every pixel, /1000.

    The prediction is already forced on known pixels, so a known pixel adds only where the
    ground truth disagrees with the trimap.
    """
    return float(np.abs(pred - gt).sum() / 1000)


def mse(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Squared differences summed over every pixel, divided by the number of unknown (128) pixels.

    Not divided by 1000 (mmagic stores ``norm_const`` but never uses it); 0 with no unknown pixel.
    """
    n_unknown = np.count_nonzero(trimap == 128)
    if n_unknown == 0:
        return 0.0
    return float(((pred - gt) ** 2).sum() / n_unknown)
