"""Gradient error, "dim" variant: mmagic's ``GradientError`` (sigma 1.4, /1000).

Both maps are min-max normalised, filtered with a 9x9 derivative-of-Gaussian kernel of unit L2
norm (replicated border, float64) and the squared difference of the gradient magnitudes is
summed over unknown pixels. The filtering calls ``cv2.filter2D`` on the whole image as mmagic
does: for a kernel this size OpenCV filters through the DFT in tiles that depend on the image
size, so cropping or a direct convolution would change the last bits of the result.
"""
from __future__ import annotations

import numpy as np

SIGMA = 1.4


def _gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-x**2 / (2 * sigma**2)) / (sigma * np.sqrt(2 * np.pi))


def gauss_kernels(sigma: float = SIGMA, epsilon: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """The x and y derivative-of-Gaussian kernels; sigma 1.4 gives 9x9.

    The half-size is where the Gaussian falls to ``epsilon`` of its peak scale; entry ``(i, j)``
    of the x kernel is ``G(i) * G'(j)``, and the kernel is divided by its L2 norm.
    """
    half = np.ceil(sigma * np.sqrt(-2 * np.log(np.sqrt(2 * np.pi) * sigma * epsilon)))
    offsets = np.arange(-half, half + 1)
    g = _gaussian(offsets, sigma)
    dg = -offsets * g / sigma**2
    kx = g[:, None] * dg[None, :]
    kx = kx / np.sqrt((kx**2).sum())
    return kx, np.ascontiguousarray(kx.T)


_KX, _KY = gauss_kernels()


def _normalized(x: np.ndarray) -> np.ndarray:
    """Min-max normalisation to [0, 1]; all zeros for a constant map (OpenCV NORM_MINMAX)."""
    import cv2  # imported where used: loading OpenCV is not every command's cost

    out = np.zeros_like(x)
    cv2.normalize(x, out, 1.0, 0.0, cv2.NORM_MINMAX)
    return out


def _gradient_magnitude(x: np.ndarray) -> np.ndarray:
    import cv2

    gx = cv2.filter2D(x, -1, _KX, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.filter2D(x, -1, _KY, borderType=cv2.BORDER_REPLICATE)
    return np.sqrt(gx**2 + gy**2)


def grad(pred: np.ndarray, gt: np.ndarray, trimap: np.ndarray) -> float:
    """Gradient error over the unknown (128) pixels, /1000; ``pred``/``gt`` float64 in [0, 1]."""
    unknown = trimap == 128
    if not unknown.any():
        return 0.0
    g = _gradient_magnitude(_normalized(np.ascontiguousarray(gt, dtype=np.float64)))
    p = _gradient_magnitude(_normalized(np.ascontiguousarray(pred, dtype=np.float64)))
    return float(((g - p) ** 2 * unknown).sum() / 1000)
