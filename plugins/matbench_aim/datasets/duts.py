"""DUTS-TR (Wang et al., CVPR 2017) for AIM's stage 1, as the official ``train_data='sod'``:
``DUTS-TR/DUTS-TR-Image/*.jpg`` with ``DUTS-TR/DUTS-TR-Mask/*.png``, matched by file stem. The
trimap comes from the mask by elliptic dilate/erode (kernel 10); the sample is flipped at random
and resized to 320x320 — no crop, as in the official SOD branch."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence, Union

from matbench.api import DATASETS, files_by_stem, InputError, MatbenchError

from .seeding import AimTrainDataset

#: The official stage-1 pipeline (``core/data.py``, ``SOD_DATA=True``).
DUTS_PIPELINE = (
    dict(type="LoadAimTrainSample"),
    dict(type="GenerateTrimap", kernel_size=10),
    dict(type="RandomFlip", prob=0.5),
    dict(type="ResizeTo", size=320),
    dict(type="PackAimInputs"),
)


@DATASETS.register_module(name="duts")
class DUTSDataset(AimTrainDataset):
    """DUTS-TR images and masks under ``data_root``, sorted by name.

    Args:
        data_root: the ``DUTS-TR`` folder.
        image_dir, mask_dir: its sub-folders (relative to ``data_root``, or absolute).
        image_exts, mask_exts: file extensions looked for (case-insensitive).
        seed, pipeline, **kwargs: see :class:`~matbench_aim.datasets.seeding.AimTrainDataset`;
            the default pipeline is :data:`DUTS_PIPELINE`.

    A sample (after ``PackAimInputs``): ``inputs`` 3x320x320, ``alpha`` 1x320x320 (mask / 255),
    ``trimap`` 1x320x320 (the dilate/erode trimap, resized bilinearly), ``name``.
    """

    METAINFO: dict = {"dataset_name": "DUTS-TR"}
    DEFAULT_PIPELINE = DUTS_PIPELINE

    def __init__(self, data_root: Union[str, os.PathLike], image_dir: str = "DUTS-TR-Image",
                 mask_dir: str = "DUTS-TR-Mask", image_exts: Sequence[str] = (".jpg", ".jpeg", ".png"),
                 mask_exts: Sequence[str] = (".png",), **kwargs: Any) -> None:
        if not data_root:
            raise MatbenchError(f"{type(self).__name__}: data_root is required")
        root = Path(data_root)
        if not root.is_dir():
            raise InputError(root, "DUTS folder not found")
        self.image_exts, self.mask_exts = tuple(image_exts), tuple(mask_exts)
        super().__init__(data_root=str(root), data_prefix=dict(image=str(image_dir), mask=str(mask_dir)), **kwargs)

    def load_data_list(self) -> list[dict]:
        image_dir, mask_dir = Path(self.data_prefix["image"]), Path(self.data_prefix["mask"])
        images = files_by_stem(image_dir, self.image_exts, "image")
        masks = files_by_stem(mask_dir, self.mask_exts, "mask")
        if not images:
            raise InputError(image_dir, f"no images found (looked for {', '.join(self.image_exts)})")
        missing = sorted(set(images) - set(masks))
        if missing:
            raise InputError(mask_dir / f"{missing[0]}{self.mask_exts[0]}",
                             f"mask missing for image {images[missing[0]].name} "
                             f"({len(missing)} of {len(images)} images have no mask)")
        orphans = sorted(set(masks) - set(images))
        if orphans:
            raise InputError(masks[orphans[0]], f"mask has no image in {image_dir} ({len(orphans)} such masks)")
        return [{"name": n, "image_path": str(images[n]), "alpha_path": str(masks[n])} for n in sorted(images)]
