"""``aim_metrics``: the ten per-image numbers of the official ``test_aim500`` loop, fast."""
from __future__ import annotations

import numpy as np

from .connectivity import conn
from .gradient import grad
from .sad_mse_mad import sad_mse_mad_group

KEYS = ("sad", "mse", "mad", "sad_trimap", "mse_trimap", "mad_trimap", "sad_fg", "sad_bg", "conn", "grad")


def check_inputs(pred, alpha, trimap) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float64 C-contiguous pred / alpha and uint8 trimap of one 2-D shape."""
    p = np.ascontiguousarray(pred, dtype=np.float64)
    g = np.ascontiguousarray(alpha, dtype=np.float64)
    t = np.ascontiguousarray(trimap)
    if p.ndim != 2 or p.shape != g.shape or p.shape != t.shape:
        raise ValueError(f"pred, alpha and trimap must be 2-D and of one size: {p.shape}, {g.shape}, {t.shape}")
    if p.size == 0:
        raise ValueError("empty image")
    if t.dtype != np.uint8:
        if np.any((t != np.round(t)) | (t < 0) | (t > 255)):
            raise ValueError("trimap values must be integers in [0, 255]")
        t = t.astype(np.uint8)
    return p, g, t


def aim_metrics(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> dict[str, float | None]:
    """All ten "aim"-variant values of one image, equal to the official ``core/evaluate.py``.

    ``pred``, ``alpha``: HxW in [0, 1] (taken as float64, as the official loop has them);
    ``trimap``: uint8 HxW with 0 / 128 / 255. Values are in the official units (SAD-like sums
    / 1000). ``mse_trimap`` and ``mad_trimap`` are ``None`` when the trimap has no unknown (128)
    pixel — the official code divides by zero there; everything else is always a float.
    """
    p, g, t = check_inputs(pred, alpha, trimap)
    out = sad_mse_mad_group(p, g, t)
    out["conn"] = conn(p, g)
    out["grad"] = grad(p, g)
    return {key: out[key] for key in KEYS}
