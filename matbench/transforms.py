"""Data transforms: plain callables ``results dict -> results dict`` (mmengine style, no mmcv)."""
from __future__ import annotations

import json

from .io import check_same_size, check_sizes, exif_orientation, image_size, read_alpha, read_rgb, read_trimap
from .registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadMattingSample:
    """Read a sample's files: ``image`` (uint8 HxWx3), ``alpha`` (float64 HxW in [0, 1]) and
    ``trimap`` (uint8 HxW, 0/128/255), from ``image_path``, ``alpha_path`` and ``trimap_path``.

    The three must have the same size; the file that differs is named. When the image's EXIF
    orientation turns it away from the ground truth's size but its stored pixels fit, the stored
    pixels are used — that is the grid the official code (which ignores EXIF) scored on.
    Sizes are first compared as the files' headers declare them, before anything is decoded.
    """

    def __init__(self, load_image: bool = True) -> None:
        self.load_image = load_image

    def __call__(self, results: dict) -> dict:
        from .content import file_stamp

        results = dict(results)
        self.check_header_sizes(results)
        # content stamps of what is read, taken before reading (the journal records them); as JSON
        # text, which a DataLoader's collation passes through as it is
        roles = ("image", "alpha", "trimap") if self.load_image else ("alpha", "trimap")
        results["_read_files"] = json.dumps({role: file_stamp(results[f"{role}_path"], with_hash=True)
                                             for role in roles})
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

    def check_header_sizes(self, results: dict) -> None:
        """Refuse differing sizes before decoding (a small PNG may declare a huge size). The
        image's header gives its stored size; EXIF rotation may swap it, which is accepted here
        and checked exactly after decoding."""
        sizes = {results["alpha_path"]: image_size(results["alpha_path"]),
                 results["trimap_path"]: image_size(results["trimap_path"])}
        if self.load_image:
            height, width = image_size(results["image_path"])
            fits = (width, height) in sizes.values() and (height, width) not in sizes.values()
            sizes = {results["image_path"]: (width, height) if fits else (height, width), **sizes}
        check_sizes(sizes)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(load_image={self.load_image})"

