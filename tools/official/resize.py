"""``skimage.transform.resize(image, shape)`` as scikit-image 0.14.5 computed it.

The official requirements pin scikit-image 0.14.5, whose ``resize`` defaults were order=1,
mode='constant', cval=0, clip=True, preserve_range=False and no anti-aliasing (the latter two
changed in 0.15). Passing those arguments to a modern ``resize`` is not the same computation:
modern versions interpolate with ``scipy.ndimage.zoom`` and, where four neighbours are all 1.0,
sometimes return 0.9999999999999999 where 0.14.5 gave 1.0 -- and the official HYBRID fusion
tests ``resized_trimap == 255`` exactly, so such pixels change by many grey levels.

0.14.5 instead estimated an ``AffineTransform`` from three corners of the output (normalised
direct linear transform solved by SVD), warped every channel with the Cython ``_warp_fast``
in float64 (bilinear, outside pixels 0) and clipped the result to the input's range, keeping
pixels that are exactly 0 when 0 lies outside it. The same is done here: that estimate, the
bilinear kernel of today's ``_warp_fast`` (unchanged since 0.14) and 0.14.5's clipping.
The estimate's off-diagonal terms are SVD rounding noise (~1e-16) that depends on the LAPACK
build, and they would switch ``_warp_fast`` from its scale-and-shift transform to the general
affine one; they are set to 0, so every build computes the same scale-and-shift sampling.
"""
from __future__ import annotations

import math

import numpy as np


def _normalisation(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hartley normalisation (centroid to the origin, mean distance sqrt(2)) and the moved points."""
    centroid = np.mean(points, axis=0)
    scale = math.sqrt(2) / math.sqrt(np.sum((points - centroid) ** 2) / points.shape[0])
    matrix = np.array([[scale, 0, -scale * centroid[0]], [0, scale, -scale * centroid[1]], [0, 0, 1]])
    moved = np.dot(matrix, np.vstack([points.T, np.ones(points.shape[0])])).T
    return matrix, moved[:, :2]


def _estimate_affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 affine map of ``src`` onto ``dst`` by 0.14.5's normalised DLT."""
    src_norm, s = _normalisation(src)
    dst_norm, d = _normalisation(dst)
    n = len(s)
    zeros, ones = np.zeros(n), np.ones(n)
    # unknowns a0 a1 a2 b0 b1 b2 and the homogeneous scale: X = a.(x, y, 1), Y = b.(x, y, 1)
    system = np.vstack([np.column_stack([s[:, 0], s[:, 1], ones, zeros, zeros, zeros, d[:, 0]]),
                        np.column_stack([zeros, zeros, zeros, s[:, 0], s[:, 1], ones, d[:, 1]])])
    v = np.linalg.svd(system)[2][-1]
    h = np.zeros((3, 3))
    h.flat[[0, 1, 2, 3, 4, 5, 8]] = -v[:-1] / v[-1]
    h[2, 2] = 1
    return np.dot(np.linalg.inv(dst_norm), np.dot(h, src_norm))


def inverse_map(in_shape: tuple[int, int], out_shape: tuple[int, int]) -> np.ndarray:
    """The output-to-input pixel map of 0.14.5's resize (pixel centres aligned), off-diagonals 0."""
    rows, cols = out_shape
    factors = np.asarray(in_shape, dtype=float) / np.asarray(out_shape, dtype=float)
    src = np.array([[0, 0], [0, rows - 1], [cols - 1, rows - 1]])
    dst = np.column_stack([factors[1] * (src[:, 0] + 0.5) - 0.5, factors[0] * (src[:, 1] + 0.5) - 0.5])
    matrix = _estimate_affine(src, dst)
    matrix[0, 1] = matrix[1, 0] = 0.0
    matrix[2] = (0.0, 0.0, 1.0)
    return matrix


def sk014_resize(image: np.ndarray, output_shape: tuple[int, ...]) -> np.ndarray:
    """``resize(image, output_shape)`` of scikit-image 0.14.5 with its default arguments, for
    H x W and H x W x C images (``output_shape`` (h, w) or (h, w, C)); float64 result."""
    from skimage.transform import warp
    from skimage.util import img_as_float

    image = np.asarray(image)
    rows, cols = (int(s) for s in output_shape[:2])
    if image.ndim not in (2, 3) or tuple(output_shape[2:]) not in ((), image.shape[2:]):
        raise ValueError(f"sk014_resize: cannot resize {image.shape} to {tuple(output_shape)}")
    as_float = img_as_float(image)   # uint8 * (1 / 255) in float64, as 0.14.5; float32 stays float32
    out = warp(np.ascontiguousarray(as_float, dtype=np.float64), inverse_map(image.shape[:2], (rows, cols)),
               output_shape=(rows, cols), order=1, mode="constant", cval=0.0, clip=False, preserve_range=True)
    low, high = as_float.min(), as_float.max()
    exact_zero = out == 0 if not low <= 0 <= high else None
    np.clip(out, low, high, out=out)
    if exact_zero is not None:
        out[exact_zero] = 0
    return out
