"""`LoadAimTrainSample`: read a training sample's files into arrays, with matbench's validation."""
from __future__ import annotations

import numpy as np

from matbench.api import TRANSFORMS, check_same_size, exif_orientation, read_alpha8, read_rgb, read_trimap

from .base import AimTransform

#: data-info key of a path -> results key of the array read from it
RGB_PATHS = {"image_path": "image", "fg_path": "fg", "bg_path": "bg"}


def read_rgb_like(path: str, shape: tuple[int, int]) -> np.ndarray:
    """An RGB image, EXIF-rotated unless only its stored pixels fit `shape` (the ground truth's)."""
    image = read_rgb(path)
    if image.shape[:2] != shape and exif_orientation(path) != 1:
        raw = read_rgb(path, apply_exif=False)
        if raw.shape[:2] == shape:
            return raw
    return image


@TRANSFORMS.register_module()
class LoadAimTrainSample(AimTransform):
    """Read whichever of ``image_path``, ``fg_path``, ``bg_path``, ``alpha_path`` and
    ``usr_path`` the sample has (a missing or ``None`` path is skipped).

    Adds ``image``/``fg``/``bg`` (uint8 HxWx3 RGB), ``alpha`` (uint8 HxW, 0..255, as the official
    ``np.array(Image.open(mask))``) and ``trimap`` (the USR file, uint8 with 0/128/255 only).
    Image, foreground, alpha and USR must have one size (the odd file is named); the background
    may have any size (it is resized to the foreground later) unless `bg_same_size` is set, as
    for a photo's estimated or stored background layer.
    """

    def __init__(self, bg_same_size: bool = False) -> None:
        self.bg_same_size = bool(bg_same_size)

    def transform(self, results: dict) -> dict:
        alpha = read_alpha8(results["alpha_path"])
        results["alpha"] = alpha
        sized = {results["alpha_path"]: alpha}
        for key, out in RGB_PATHS.items():
            path = results.get(key)
            if path is None:
                continue
            unsized = out == "bg" and not self.bg_same_size
            results[out] = read_rgb(path) if unsized else read_rgb_like(path, alpha.shape)
            if not unsized:
                sized[path] = results[out]
        if results.get("usr_path") is not None:
            results["trimap"] = read_trimap(results["usr_path"])
            sized[results["usr_path"]] = results["trimap"]
        check_same_size(sized)
        return results
