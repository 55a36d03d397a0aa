"""PPM-100 (Ke et al., "MODNet: Real-Time Trimap-Free Portrait Matting via Objective
Decomposition", AAAI 2022): ``PPM-100/image/<name>.jpg`` and ``PPM-100/matte/<name>.jpg``, paired by
identical file name as third-party evaluation scripts do (ZHKKKe/PPM ships no code; e.g.
SHI-Labs/Matting-Anything ``inference_benchmark.py`` opens ``matte/<image file name>``).

The set ships no trimaps: they are made from the true alpha by GFM's ``gen_trimap_with_dilate``
rule with GFM's kernel size 25 (``METAINFO["trimap_rule"]``). MODNet reports whole-image MSE/MAD,
which the "aim" variant's ``mse``/``mad`` are; the trimap is only needed by the trimap columns.

The mattes are JPEGs. Third-party scripts read them with ``cv2.imread(path, 0)``: libjpeg's
greyscale output, i.e. the luma (Y) plane of a colour JPEG. A greyscale matte is read by matbench
as it is (the same values). A colour matte, whose decoded R, G, B may differ by a little (JPEG
chroma noise), is read the same way with ``rgb_mattes="luma"`` (the default): its luma is written
once as a greyscale PNG under the dataset's cache (remade whenever the matte's content changes),
which is what is scored (for a matte whose
channels are equal everywhere the luma equals each channel, so nothing changes).
``rgb_mattes="strict"`` keeps matbench's own rule instead (channel 0 when R = G = B everywhere,
otherwise the matte is refused).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

import numpy as np

from matbench.api import DATASETS, DerivedFiles, image_size, InputError, MatbenchError, match_by_stem, MattingDataset

RGB_MATTES = ("luma", "strict")
#: the cache folder (under ``trimap_cache``) of the greyscale copies of colour mattes
LUMA_DIR = "mattes-luma"
_COLOUR_MODES = ("RGB", "RGBA", "P")


@DATASETS.register_module(name="ppm100")
class PPM100(MattingDataset):
    """PPM-100's 100 images and mattes; ``data_root`` is the unpacked ``PPM-100/`` folder.

    Args:
        rgb_mattes: how colour mattes are read: "luma" (as ``cv2.imread(path, 0)``, the
            third-party scripts' reading) or "strict" (only if R = G = B everywhere).
    """

    METAINFO: dict = {"name": "ppm100", "title": "PPM-100", "groups": [], "default_variant": "aim",
                      "trimap_rule": dict(type="dilate_erode", kernel_size=25),
                      "paper": "Ke et al., MODNet: Real-Time Trimap-Free Portrait Matting via Objective "
                               "Decomposition, AAAI 2022"}

    def __init__(self, data_root: Union[str, os.PathLike], rgb_mattes: str = "luma", **kwargs: Any) -> None:
        if rgb_mattes not in RGB_MATTES:
            raise MatbenchError(f"ppm100: unknown rgb_mattes '{rgb_mattes}' (known: {', '.join(RGB_MATTES)})")
        self.rgb_mattes = rgb_mattes
        kwargs.setdefault("image_dir", "image")
        kwargs.setdefault("alpha_dir", "matte")
        kwargs.setdefault("trimap_dir", None)
        kwargs.setdefault("image_exts", (".jpg", ".jpeg", ".png"))
        kwargs.setdefault("alpha_exts", (".jpg", ".jpeg", ".png"))
        if data_root:
            root = Path(data_root)
            if not root.is_dir():
                raise InputError(root, "dataset folder not found")
            if not (root / kwargs["image_dir"]).is_dir() or not (root / kwargs["alpha_dir"]).is_dir():
                raise InputError(root, f"no PPM-100 set here: looked for {kwargs['image_dir']}/ and "
                                       f"{kwargs['alpha_dir']}/ (the unpacked PPM-100/ folder)")
        super().__init__(data_root, **kwargs)

    def collect(self) -> dict[str, dict[str, Path]]:
        folders = {"image": (Path(self.data_prefix["image"]), self.image_exts),
                   "alpha": (Path(self.data_prefix["alpha"]), self.alpha_exts)}
        if self.ships_trimaps:
            folders["trimap"] = (Path(self.data_prefix["trimap"]), self.trimap_exts)
        files = match_by_stem(folders)
        for entry in files.values():
            if entry["alpha"].name != entry["image"].name:
                raise InputError(entry["alpha"], f"matte not named like its image {entry['image'].name} "
                                                 "(PPM-100 pairs identical file names)")
        if self.rgb_mattes == "luma" and self.trimap_cache is not None:
            copies = DerivedFiles(Path(self.trimap_cache) / LUMA_DIR, {"luma": "cv2.IMREAD_GRAYSCALE"})
            for name, entry in files.items():
                if is_colour(entry["alpha"]):
                    entry["alpha"] = copies.get(name, entry["alpha"], read_luma)
            copies.save()
        return files


def is_colour(path: Path) -> bool:
    """Whether a matte file is stored in colour (a missing, empty or unreadable file: an
    InputError naming it)."""
    from PIL import Image

    image_size(path)
    with Image.open(path) as img:
        return img.mode in _COLOUR_MODES


def read_luma(path: Path) -> "np.ndarray":
    """A colour matte as ``cv2.imread(path, IMREAD_GRAYSCALE)`` decodes it (EXIF orientation
    ignored, as matbench reads mattes): what third-party PPM-100 scripts score."""
    import cv2

    luma = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION)
    if luma is None:
        raise InputError(path, "cannot read matte (OpenCV)")
    return luma
