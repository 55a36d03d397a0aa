"""Deterministic inputs for AimNet parity checks (golden fixtures and their tests)."""
from __future__ import annotations

import numpy as np

#: the input of the network-level parity fixture and the photo of the strategy-level one
FORWARD_SIZE = (64, 96)
PHOTO_SIZE = (160, 224)


def scene(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A photo-like uint8 RGB image: smooth colour gradients, a soft-edged disc and mild noise,
    built from closed-form expressions so that it is the same everywhere."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    base = np.stack([0.3 + 0.4 * yy / h, 0.5 + 0.3 * np.sin(xx / w * 6), 0.6 - 0.3 * xx / w], -1)
    disc = np.clip((0.35 * min(h, w) - np.hypot(yy - 0.55 * h, xx - 0.45 * w)) / 6, 0, 1)[..., None]
    img = base * (1 - disc) + np.array([0.9, 0.6, 0.2]) * disc + rng.normal(0, 0.03, (h, w, 3))
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)
