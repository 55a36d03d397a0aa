"""An ImageNet-style folder (``root/<class>/<image>``) for stage 0, with the usual augmentation
(random-resized crop and flip for training, centre crop otherwise), done with Pillow and NumPy
and seeded per (seed, epoch, index) like the other AIM training datasets."""
from __future__ import annotations

import math
import os
from typing import Any, Union

import numpy as np
import torch
from PIL import Image

from matbench.api import DATASETS, InputError, read_rgb
from matbench_aim.datasets.seeding import AimTrainDataset
from matbench_aim.models.aimnet import MEAN, STD

SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class ClassificationCrop:
    """``results`` with ``img_path``, ``label`` and ``rng`` -> ``inputs`` (normalised 3 x size x
    size) and ``label``: random-resized crop (8-100 % of the area, aspect 3/4..4/3) and flip when
    training, the central square otherwise."""

    def __init__(self, size: int, train: bool) -> None:
        self.size, self.train = size, train

    def _box(self, rng: np.random.Generator, w: int, h: int) -> tuple[int, int, int, int]:
        if self.train:
            for _ in range(10):
                area = rng.uniform(0.08, 1.0) * w * h
                ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
                cw, ch = int(round(math.sqrt(area * ratio))), int(round(math.sqrt(area / ratio)))
                if 0 < cw <= w and 0 < ch <= h:
                    return int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1)), cw, ch
        side = min(w, h)
        return (w - side) // 2, (h - side) // 2, side, side

    def __call__(self, results: dict) -> dict:
        rng = results["rng"]
        img = Image.fromarray(read_rgb(results["img_path"]))
        x, y, cw, ch = self._box(rng, *img.size)
        img = img.crop((x, y, x + cw, y + ch)).resize((self.size, self.size), Image.BILINEAR)
        arr = np.asarray(img, dtype=np.float32) / 255
        if self.train and rng.random() < 0.5:
            arr = arr[:, ::-1]
        arr = (arr - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
        return dict(inputs=torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1))),
                    label=torch.tensor(results["label"]), rng=rng)


@DATASETS.register_module(name="imagefolder")
class ImageFolderDataset(AimTrainDataset):
    def __init__(self, data_root: Union[str, os.PathLike], size: int = 224, train: bool = True,
                 **kwargs: Any) -> None:
        kwargs.setdefault("pipeline", [ClassificationCrop(size, train)])
        super().__init__(data_root=str(data_root), serialize_data=False, **kwargs)

    def load_data_list(self) -> list[dict]:
        root = self.data_root
        if not os.path.isdir(root):
            raise InputError(root, "image folder not found")
        classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
        items = [dict(img_path=os.path.join(root, c, f), label=i) for i, c in enumerate(classes)
                 for f in sorted(os.listdir(os.path.join(root, c))) if f.lower().endswith(SUFFIXES)]
        if not items:
            raise InputError(root, "no class folders with images (expected root/<class>/<image>)")
        self._metainfo.update(classes=tuple(classes))
        return items
