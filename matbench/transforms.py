"""Data transforms: plain callables ``results dict -> results dict`` (mmengine style, no mmcv)."""
from __future__ import annotations

from .io import check_same_size, exif_orientation, read_alpha, read_rgb, read_trimap
from .registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadMattingSample:
    """Read a sample's files: ``image`` (uint8 HxWx3), ``alpha`` (float64 HxW in [0, 1]) and
    ``trimap`` (uint8 HxW, 0/128/255), from ``image_path``, ``alpha_path`` and ``trimap_path``.

    The three must have the same size; the file that differs is named. When the image's EXIF
    orientation turns it away from the ground truth's size but its stored pixels fit, the stored
    pixels are used — that is the grid the official code (which ignores EXIF) scored on.
    """

    def __init__(self, load_image: bool = True) -> None:
        self.load_image = load_image

    def __call__(self, results: dict) -> dict:
        results = dict(results)
        alpha = read_alpha(results["alpha_path"])
        trimap = read_trimap(results["trimap_path"])
        arrays = {results["alpha_path"]: alpha, results["trimap_path"]: trimap}
        if self.load_image:
            image = read_rgb(results["image_path"])
            if image.shape[:2] != alpha.shape and exif_orientation(results["image_path"]) != 1:
                raw = read_rgb(results["image_path"], apply_exif=False)
                if raw.shape[:2] == alpha.shape:
                    image = raw
            results["image"] = image
            arrays = {results["image_path"]: image, **arrays}
        check_same_size(arrays)
        results["alpha"], results["trimap"] = alpha, trimap
        return results

    def __repr__(self) -> str:
        return f"{type(self).__name__}(load_image={self.load_image})"

