"""mmagic's prediction post-processing, so that a float matte is scored as mmagic would score it."""
from __future__ import annotations

import numpy as np


def prepare_dim(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prediction and ground truth as the mmagic metrics see them: float64 ``k/255`` maps.

    The prediction follows ``BaseMattor.postprocess``: cast to float32, clamped to [0, 1], set to
    1 where the trimap is 255 and to 0 where it is 0, multiplied by 255 in float32, rounded half
    to even and stored as uint8. ``alpha`` is a float matte read from an 8-bit PNG (``k/255``);
    its 8-bit value is recovered by rounding ``alpha * 255``. A uint8 ``pred`` or ``alpha`` is taken as 8-bit.
    """
    pred = np.asarray(pred)
    if pred.dtype == np.uint8:
        pred = pred / 255.0
    p = np.array(pred, dtype=np.float32)
    if np.isnan(p).any():
        raise ValueError("prediction contains NaN")
    np.clip(p, 0, 1, out=p)
    p[trimap == 255] = 1
    p[trimap == 0] = 0
    # float32 product and half-to-even rounding, as torch's `pa *= 255; pa.round_()`
    p8 = np.rint(p * np.float32(255)).astype(np.uint8)
    alpha = np.asarray(alpha)
    if alpha.dtype == np.uint8:
        g8 = alpha
    else:
        g8 = np.rint(alpha.astype(np.float64) * 255).clip(0, 255).astype(np.uint8)
    return p8 / 255.0, g8 / 255.0
