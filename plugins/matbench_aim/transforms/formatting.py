"""`PackAimInputs`: a sample's arrays as the tensors AimNet's training step consumes."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from matbench.api import TRANSFORMS

from .base import AimTransform

#: ImageNet statistics (RGB in [0, 1]), as the official ``transforms.Normalize``
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


@TRANSFORMS.register_module()
class PackAimInputs(AimTransform):
    """Build the sample dict: ``inputs`` (float32 3xHxW, RGB/255 then normalised with `mean`/`std`),
    ``alpha`` (float32 1xHxW in [0, 1]; uint8 alphas are divided by 255), ``trimap`` (float32
    1xHxW, the trimap/USR values as they are, 0..255), ``fg``/``bg`` when present (normalised
    like ``inputs``) and the `meta_keys` (default: ``name``). Everything else is dropped."""

    def __init__(self, mean: Sequence[float] = MEAN, std: Sequence[float] = STD,
                 meta_keys: Sequence[str] = ("name",)) -> None:
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.meta_keys = tuple(meta_keys)
        self._mean = torch.tensor(self.mean, dtype=torch.float32).view(3, 1, 1)
        self._std = torch.tensor(self.std, dtype=torch.float32).view(3, 1, 1)

    def _rgb(self, arr: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)).permute(2, 0, 1).contiguous()
        return (t / 255.0 - self._mean) / self._std  # arithmetic on the permuted view is ~10x slower

    def transform(self, results: dict) -> dict:
        alpha = results["alpha"]
        alpha = alpha.astype(np.float32) / 255.0 if alpha.dtype == np.uint8 else alpha.astype(np.float32)
        packed = {"inputs": self._rgb(results["image"]),
                  "alpha": torch.from_numpy(np.ascontiguousarray(alpha))[None],
                  "trimap": torch.from_numpy(np.ascontiguousarray(results["trimap"], dtype=np.float32))[None]}
        for k in ("fg", "bg"):
            if results.get(k) is not None:
                packed[k] = self._rgb(results[k])
        for k in self.meta_keys:
            packed[k] = results[k]
        return packed
