"""``skimage.transform.resize(x, shape)`` as scikit-image 0.17.2 computes it with its defaults
(GFM's ``requirements.txt`` pins 0.17.2 and SciPy 1.5.3), on tensors, bit for bit.

0.17.2's defaults, for a uint8 photo, a uint8 class map or a float32 alpha:

1. anti-aliasing on: ``scipy.ndimage.gaussian_filter`` with sigma ``max(0, (in/out - 1) / 2)``
   per axis (0 for the channel axis and when up-sizing: a plain copy), ``mode='mirror'``,
   radius ``int(4 sigma + 0.5)``, run on the array *in its own dtype*: rows, then columns, each
   1-D pass accumulated in double (centre tap first, then the symmetric pairs from the outside
   in) and stored back into the input's dtype — for a uint8 photo a C cast, i.e. truncated.
2. uint8 becomes float64 by ``x * (1 / 255)``; float32 stays float32.
3. bilinear sampling of output pixel ``(y, x)`` at ``(sy * y + ty, sx * x + tx)``: scale and shift
   of the affine map that 0.17.2 estimates from three output corners (normalised DLT solved by
   SVD, off-diagonal terms then zeroed), whose last bits are LAPACK rounding: computed here the
   same way. Out-of-image neighbours are mirrored (``mode='reflect'``: row -1 reads row 1).
   The arithmetic follows the compiled ``_warp_fast``: float64 throughout for float64 images; for
   float32 ones, coordinates and fractions in float32, ``(1 - dc) * a`` in double, ``dc * b`` in
   float32, the two rows blended in double and the result stored as float32.
4. clipped to the (filtered) input's [min, max].

Kernel weights use the C library's ``exp`` (``math.exp``), as NumPy 1.19 did on CPUs without
AVX-512; NumPy's own vectorised ``exp`` differs by an ulp for some sizes, which can move a pixel
of the truncated photo by one level.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch


def _mirror(i: torch.Tensor, n: int) -> torch.Tensor:
    """Positions ``i`` (int64) of a length-``n`` axis extended by mirroring about the edge pixels
    (SciPy's 'mirror', scikit-image's 'reflect': -1 -> 1, n -> n - 2), as indices into it."""
    if n == 1:
        return torch.zeros_like(i)
    period = 2 * (n - 1)
    i = i.remainder(period)
    return torch.where(i >= n, period - i, i)


def mirror_index(n: int, start: int, stop: int, device: torch.device) -> torch.Tensor:
    """Indices of positions ``start..stop-1`` of a mirrored length-``n`` axis (see ``_mirror``)."""
    return _mirror(torch.arange(start, stop, dtype=torch.int64), n).to(device)


@lru_cache(maxsize=64)
def gaussian_weights(sigma: float) -> tuple[float, ...]:
    """SciPy's ``_gaussian_kernel1d(sigma, 0, int(4 sigma + 0.5))``: centre tap first, then the
    taps at distance 1, 2, ... (the kernel is symmetric)."""
    radius = int(4.0 * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.array([math.exp(v) for v in -0.5 / (sigma * sigma) * x ** 2])
    phi = phi / phi.sum()
    return tuple(float(w) for w in phi[radius:])


def gaussian_pass(x: torch.Tensor, dim: int, sigma: float, store: torch.dtype) -> torch.Tensor:
    """One 1-D pass of ``gaussian_filter`` along ``dim`` of float64 ``x``, stored as ``store``
    (uint8: truncated; the result stays a float64 tensor holding the stored values)."""
    weights = gaussian_weights(sigma)
    radius, n = len(weights) - 1, x.shape[dim]
    padded = x.index_select(dim, mirror_index(n, -radius, n + radius, x.device))
    acc = padded.narrow(dim, radius, n) * weights[0]
    for j in range(radius, 0, -1):
        acc = acc + (padded.narrow(dim, radius - j, n) + padded.narrow(dim, radius + j, n)) * weights[j]
    if store == torch.uint8:
        return acc.trunc()
    return acc.to(store).double() if store != torch.float64 else acc


def gaussian_passes_cpu(x: torch.Tensor, sigmas: tuple[float, float]) -> torch.Tensor:
    """Both passes of :func:`gaussian_pass` (along H with ``sigmas[0]``, then W; 0: none) on a
    CPU tensor, by SciPy's ``correlate1d`` itself with the same weights: it accumulates in the
    same order and stores in ``x``'s dtype (uint8 truncated) as 0.17.2's call did, ~6x faster than
    the tensor passes. Returns float64 holding the stored values."""
    from scipy.ndimage import correlate1d

    array = x.numpy()
    for axis, sigma in ((1, sigmas[0]), (2, sigmas[1])):
        if sigma > 1e-15:
            taps = gaussian_weights(sigma)
            kernel = np.array(taps[:0:-1] + taps, dtype=np.float64)
            array = correlate1d(array, kernel, axis=axis, output=array.dtype, mode="mirror")
    return torch.from_numpy(np.ascontiguousarray(array)).double()


def _normalise(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hartley normalisation: the matrix moving the centroid to 0 and the RMS distance to sqrt 2,
    and the moved points."""
    centroid = np.mean(points, axis=0)
    rms = math.sqrt(np.sum((points - centroid) ** 2) / points.shape[0])
    k = math.sqrt(2) / rms
    matrix = np.array([[k, 0, -k * centroid[0]], [0, k, -k * centroid[1]], [0, 0, 1]])
    moved = (matrix @ np.vstack([points.T, np.ones(points.shape[0])])).T
    return matrix, moved[:, :2] / moved[:, 2:]


@lru_cache(maxsize=256)
def sampling_map(in_shape: tuple[int, int], out_shape: tuple[int, int]) -> tuple[float, float, float, float]:
    """``(sy, ty, sx, tx)``: output pixel (y, x) samples the input at (sy y + ty, sx x + tx), as
    0.17.2's resize estimates the map (three corners, normalised DLT by SVD)."""
    rows, cols = out_shape
    factors = np.asarray(in_shape, dtype=float) / np.asarray(out_shape, dtype=float)
    if rows == 1 and cols == 1:
        return 1.0, in_shape[0] / 2.0 - 0.5, 1.0, in_shape[1] / 2.0 - 0.5
    src = np.array([[0, 0], [0, rows - 1], [cols - 1, rows - 1]], dtype=float)
    dst = np.column_stack([factors[1] * (src[:, 0] + 0.5) - 0.5, factors[0] * (src[:, 1] + 0.5) - 0.5])
    src_m, s = _normalise(src)
    dst_m, d = _normalise(dst)
    zeros, ones = np.zeros(3), np.ones(3)
    system = np.vstack([np.column_stack([s[:, 0], s[:, 1], ones, zeros, zeros, zeros, d[:, 0]]),
                        np.column_stack([zeros, zeros, zeros, s[:, 0], s[:, 1], ones, d[:, 1]])])
    v = np.linalg.svd(system)[2][-1]
    h = np.zeros((3, 3))
    h.flat[[0, 1, 2, 3, 4, 5, 8]] = -v[:-1] / v[-1]
    h[2, 2] = 1
    h = np.linalg.inv(dst_m) @ h @ src_m
    return float(h[1, 1]), float(h[1, 2]), float(h[0, 0]), float(h[0, 2])


def _axis(n_in: int, n_out: int, scale: float, shift: float, single: bool,
          device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mirrored indices of the two neighbours of each output position along one axis and the
    fraction towards the second, in float32 arithmetic for float32 images (``single``)."""
    if single:
        f32 = torch.float32
        pos = torch.arange(n_out, dtype=f32) * torch.tensor(scale, dtype=f32) + torch.tensor(shift, dtype=f32)
    else:
        pos = torch.arange(n_out, dtype=torch.float64) * scale + shift
    low, high = pos.floor(), pos.ceil()
    frac = pos - low
    return _mirror(low.to(torch.int64), n_in).to(device), _mirror(high.to(torch.int64), n_in).to(device), frac.to(device)


def _warp(x: torch.Tensor, out_shape: tuple[int, int], single: bool) -> torch.Tensor:
    """Bilinear sampling of C x H x W float64 ``x`` (holding float32 values when ``single``)."""
    sy, ty, sx, tx = sampling_map(tuple(x.shape[1:]), out_shape)
    r0, r1, dr = _axis(x.shape[1], out_shape[0], sy, ty, single, x.device)
    c0, c1, dc = _axis(x.shape[2], out_shape[1], sx, tx, single, x.device)
    left, right = x.index_select(2, c0), x.index_select(2, c1)
    if single:
        # (1 - dc) * a in double, dc * b rounded to float32 (as compiled), summed in double
        rows = (1.0 - dc.double()) * left + (dc * right.float()).double()
    else:
        rows = (1.0 - dc) * left + dc * right
    dr = dr.double()[:, None]
    out = (1.0 - dr) * rows.index_select(1, r0) + dr * rows.index_select(1, r1)
    return out.float().double() if single else out


def resize(x: torch.Tensor, out_shape: tuple[int, int]) -> torch.Tensor:
    """scikit-image 0.17.2's ``resize(x, out_shape)`` of a C x H x W tensor (channels last in
    scikit-image's terms): uint8 -> float64 in [0, 1]; float32 -> float32; float64 -> float64.
    The computation runs on ``x``'s device."""
    if x.dim() != 3 or x.dtype not in (torch.uint8, torch.float32, torch.float64):
        raise ValueError(f"resize: expected a C x H x W uint8/float32/float64 tensor, got {tuple(x.shape)} {x.dtype}")
    out_shape = (int(out_shape[0]), int(out_shape[1]))
    dtype = x.dtype
    sigmas = (max(0.0, (x.shape[1] / out_shape[0] - 1) / 2), max(0.0, (x.shape[2] / out_shape[1] - 1) / 2))
    if x.device.type == "cpu":
        image = gaussian_passes_cpu(x, sigmas)
    else:
        image = x.double()
        for dim, sigma in ((1, sigmas[0]), (2, sigmas[1])):
            if sigma > 1e-15:
                image = gaussian_pass(image, dim, sigma, dtype)
    if dtype == torch.uint8:
        image = image * (1 / 255)
    out = _warp(image, out_shape, single=dtype == torch.float32)
    out = out.clamp(image.min(), image.max())
    return out.float() if dtype == torch.float32 else out
