"""The "mgmatting" metric variant: SAD and MSE over the whole image and over the detail region, as
MGMatting's ``code-base/evaluation_RWP.py`` computes them for RealWorldPortrait-636.

Reference: yucornetto/MGMatting ``code-base/evaluation_RWP.py`` and ``code-base/utils/evaluate.py``
(``comput_sad_loss``, ``compute_mse_loss``), snapshot 2bac93f. The script reads prediction, alpha
and detail map with ``cv2.imread(path, 0)`` as float32 0..255 and computes in float32:
``e = (pred - alpha) / 255``; the detail region is ``detail map > 0``. Each sum is a float32
``np.sum`` of the masked full-size array (so the pairwise-summation order is the script's);
dividing it by 1000, or by the pixel count + 1e-8, is float64, as NumPy 1 (the script's era)
promotes a float32 scalar with a Python number.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from matbench.api import METRICS, ImageMetric, InputError, size_text

__all__ = ["MGMattingMetric", "error_map", "mgmatting_metrics", "mse", "read_detail", "sad"]


def error_map(pred: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``(pred - alpha) / 255`` in float32 from the 0..255 values (``pred`` and ``alpha`` in [0, 1]:
    8-bit values k/255 come back to exactly k)."""
    p = np.asarray(pred * 255.0, dtype=np.float32)
    g = np.asarray(alpha * 255.0, dtype=np.float32)
    return (p - g) / np.float32(255.0)


def sad(e: np.ndarray, region: Optional[np.ndarray] = None) -> float:
    """Sum of |e| over ``region`` (bool HxW; None: the whole image) / 1000."""
    err = np.abs(e) if region is None else np.abs(e) * region
    return float(np.float64(np.sum(err)) / 1000.0)


def mse(e: np.ndarray, region: Optional[np.ndarray] = None) -> float:
    """Sum of e² over ``region`` (bool HxW; None: the whole image) / (its pixel count + 1e-8)."""
    err = e ** 2 if region is None else e ** 2 * region
    count = e.size if region is None else int(np.count_nonzero(region))
    return float(np.float64(np.sum(err)) / (count + 1e-8))


def mgmatting_metrics(pred: np.ndarray, alpha: np.ndarray, detail: np.ndarray) -> dict[str, float]:
    """SAD and MSE of one image over the whole image and over ``detail > 0`` (``detail``: the detail
    map's 0..255 values)."""
    e = error_map(pred, alpha)
    region = detail > 0
    return {"sad": sad(e), "mse": mse(e), "sad_detail": sad(e, region), "mse_detail": mse(e, region)}


def read_detail(path: str) -> np.ndarray:
    """A detail map as uint8 HxW, decoded the way ``cv2.imread(path, 0)`` decodes a JPEG: the
    decoder's own greyscale output (luma), EXIF orientation applied."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as img:
            img.draft("L", img.size)        # libjpeg's greyscale output, not RGB then converted
            img = ImageOps.exif_transpose(img)
            return np.asarray(img if img.mode == "L" else img.convert("L"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(path, f"cannot read detail map ({exc})") from None


@METRICS.register_module(name="mgmatting")
class MGMattingMetric(ImageMetric):
    """RealWorldPortrait-636 convention, as MGMatting's ``evaluation_RWP.py`` computes it.

    No region is forced and no trimap is used. SAD (/1000) and MSE (per pixel) over the whole
    image; ``sad_detail`` and ``mse_detail`` over the pixels whose detail map is non-zero (MSE per
    detail pixel). The dataset value of each is the plain mean over images.
    """

    variant = "mgmatting"
    uses_trimap = False
    keys = ("sad", "mse", "sad_detail", "mse_detail")
    title = "MGMatting's RealWorldPortrait-636 evaluation"
    columns = (("sad", "SAD", 2), ("mse", "MSE", 5), ("sad_detail", "Detail SAD", 2), ("mse_detail", "Detail MSE", 5))
    note = ("mgmatting variant: MGMatting's evaluation_RWP.py read the predictions as JPEG files (<name>.jpg, "
            "as its infer.py saved them), so its published numbers include JPEG compression of the "
            "predictions; matbench scores the PNG predictions it is given. Detail SAD/MSE: over detail map > 0.")
    extra_inputs = ("detail",)

    @staticmethod
    def compute_image(pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray, detail: str = "") -> dict[str, float]:
        region = read_detail(detail)
        if region.shape != alpha.shape:
            raise InputError(detail, f"detail map is {size_text(region.shape)}, the alpha {size_text(alpha.shape)}")
        return mgmatting_metrics(pred, alpha, region)
