"""``BlurredTrimap``: the smallest useful trimap-based method. The trimap (0 / 0.5 / 1) is blurred
so that the unknown region fades from the foreground side to the background side; the known
regions keep the trimap's values."""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from matbench.api import MODELS, TrimapMattingModel


def blurred_trimap(trimap: np.ndarray, sigma: float) -> np.ndarray:
    """float64 H x W alpha in [0, 1] from a uint8 H x W 0/128/255 trimap."""
    soft = gaussian_filter(trimap / 255.0, sigma=sigma, mode="nearest")
    return np.where(trimap == 255, 1.0, np.where(trimap == 0, 0.0, soft))


@MODELS.register_module()
class BlurredTrimap(TrimapMattingModel):
    """Trimap blurred across the unknown region (a baseline; no image content is used).

    Args:
        sigma: standard deviation of the Gaussian blur, in pixels.
    """

    def __init__(self, sigma: float = 3.0) -> None:
        self.sigma = sigma

    def predict(self, image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
        # image: uint8 H x W x 3 RGB (unused here); trimap: uint8 H x W with 0 / 128 / 255
        return blurred_trimap(trimap, self.sigma)
