"""A straightforward port of the official "aim" metrics (``core/evaluate.py``): the same
algorithm step by step — temporaries, ``np.sum``, one skimage labelling per threshold, four
``scipy.ndimage.gaussian_filter`` calls with float32 output — written for matbench. It is the
baseline ``tools/bench_metrics.py`` compares the fast path against, and a testing oracle; it
agrees with the official code bit for bit. Only differences: no unused distance transform in
conn, and ``None`` instead of inf/nan for ``mse_trimap`` / ``mad_trimap`` without unknown pixels.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.measure import label

from .suite import KEYS, check_inputs

THRESHOLDS = np.arange(0, 1.1, 0.1)


def sad_mse_mad(pred, alpha, trimap) -> dict[str, float | None]:
    """The eight SAD / MSE / MAD values (whole image, trimap-fixed, fg, bg)."""
    n = pred.size
    diff = np.abs(pred - alpha)
    fixed = pred.copy()
    fixed[trimap == 255] = 1.0
    fixed[trimap == 0] = 0.0
    unknown = float(np.count_nonzero(trimap == 128))
    if unknown == 0:
        unknown = n - float(np.count_nonzero(trimap == 255)) - float(np.count_nonzero(trimap == 0))
    sad_t = np.sum(np.abs(fixed - alpha))
    sq_t = np.sum((fixed - alpha) ** 2)
    return {
        "sad": np.sum(diff) / 1000,
        "mse": np.sum((pred - alpha) ** 2) / n,
        "mad": np.sum(diff) / n,
        "sad_trimap": sad_t / 1000,
        "mse_trimap": sq_t / unknown if unknown else None,
        "mad_trimap": sad_t / unknown if unknown else None,
        "sad_fg": np.sum(diff * (trimap == 255)) / 1000,
        "sad_bg": np.sum(diff * (trimap == 0)) / 1000,
    }


def grad(pred, alpha) -> float:
    """float32 gradient error, as the official code computes it."""
    mags = []
    for x in (pred, alpha):
        gx = gaussian_filter(x, sigma=1.4, order=[1, 0], output=np.float32)
        gy = gaussian_filter(x, sigma=1.4, order=[0, 1], output=np.float32)
        mags.append(np.sqrt(gx ** 2 + gy ** 2))
    return float(np.sum(np.square(mags[0] - mags[1])) / 10)


def conn(pred, alpha) -> float:
    """Connectivity error: one 4-connected labelling per threshold."""
    l_map = np.full(pred.shape, -1, dtype=np.float32)
    for i in range(1, THRESHOLDS.size):
        labels = label((pred >= THRESHOLDS[i]) & (alpha >= THRESHOLDS[i]), connectivity=1)
        sizes = np.bincount(labels.ravel())[1:]
        if sizes.size == 0:
            continue                      # empty intersection: the official code skips it
        omega = labels == np.argmax(sizes) + 1    # first maximum = first label in raster order
        l_map[(l_map == -1) & ~omega] = THRESHOLDS[i - 1]
    l_map[l_map == -1] = 1
    d_pred = pred - l_map
    d_alpha = alpha - l_map
    phi_pred = 1 - d_pred * (d_pred >= 0.15).astype(np.float32)
    phi_alpha = 1 - d_alpha * (d_alpha >= 0.15).astype(np.float32)
    return float(np.sum(np.abs(phi_pred - phi_alpha)) / 1000)


def aim_metrics_reference(pred, alpha, trimap) -> dict[str, float | None]:
    """The ten values, computed the official way (slow)."""
    p, g, t = check_inputs(pred, alpha, trimap)
    out = sad_mse_mad(p, g, t)
    out["conn"] = conn(p, g)
    out["grad"] = grad(p, g)
    return {key: (None if out[key] is None else float(out[key])) for key in KEYS}
