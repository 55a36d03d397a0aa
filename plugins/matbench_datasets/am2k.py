"""AM-2k validation set (Li et al., "Bridging Composite and Real: Towards End-to-end Deep Image
Matting", IJCV 2022), read as GFM's ``core/test.py`` (``test_am2k``) reads it: every image of
``validation/original/`` paired by stem with ``validation/mask/<stem>.png`` and
``validation/trimap/<stem>.png``. ``train/`` is not evaluated."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

from matbench.api import DATASETS, InputError, MattingDataset

#: where the validation split may sit under --data-root: the unpacked ``AM-2k/`` (official), or
#: the split folder itself
SPLIT_DIRS = ("validation", ".")


@DATASETS.register_module(name="am2k")
class AM2K(MattingDataset):
    """AM-2k's 200 validation images with their official trimaps; ``data_root`` is the unpacked
    ``AM-2k/`` folder (holding ``validation/``) or the ``validation/`` folder itself."""

    METAINFO: dict = {"name": "am2k", "title": "AM-2k (validation)", "groups": [], "default_variant": "aim",
                      "trimap_rule": None,
                      "paper": "Li et al., Bridging Composite and Real: Towards End-to-end Deep Image Matting, "
                               "IJCV 2022"}

    def __init__(self, data_root: Union[str, os.PathLike], **kwargs: Any) -> None:
        kwargs.setdefault("image_dir", "original")
        kwargs.setdefault("alpha_dir", "mask")
        kwargs.setdefault("trimap_dir", "trimap")
        super().__init__(split_folder(data_root, kwargs["image_dir"]) if data_root else data_root, **kwargs)


def split_folder(data_root: Union[str, os.PathLike], image_dir: str) -> Path:
    """The AM-2k validation folder under `data_root` (the first of :data:`SPLIT_DIRS` that holds
    `image_dir`)."""
    root = Path(data_root)
    if not root.is_dir():
        raise InputError(root, "dataset folder not found")
    for sub in SPLIT_DIRS:
        if (root / sub / image_dir).is_dir():
            return (root / sub) if sub != "." else root
    raise InputError(root, f"no AM-2k validation set here: looked for validation/{image_dir}/ "
                           f"(the unpacked AM-2k/ folder) and {image_dir}/ (the validation folder itself)")
