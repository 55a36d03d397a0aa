"""Stand-ins for what the official code imports but a modern environment may lack.

* ``tqdm``: imported by core/test.py and core/process_data.py for progress bars only.
* ``torchvision``: core/test.py and core/data.py use nothing of it but ``transforms.Normalize``.
* ``scipy.ndimage.morphology``: core/evaluate.py imports it inside its connectivity function; it
  is a deprecated alias of ``scipy.ndimage`` since SciPy 1.8, to be removed in SciPy 2.0.

The first two are given to the official modules only while they are imported (``loader``);
the real packages are used when installed. The SciPy alias has to exist when the function
runs, so where SciPy lacks it, it is registered for the rest of the process.
"""
from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any, Iterable, Sequence


class Normalize:
    """``torchvision.transforms.Normalize`` on a C x H x W tensor: ``(x - mean) / std`` in the
    tensor's dtype, the two operations in torchvision's order."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean, self.std = mean, std

    def __call__(self, tensor: Any) -> Any:
        import torch

        mean = torch.as_tensor(self.mean, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
        std = torch.as_tensor(self.std, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
        return tensor.sub(mean).div_(std)


def _tqdm(iterable: Iterable | None = None, *args: Any, **kwargs: Any) -> Iterable | None:
    return iterable


def missing_packages() -> dict[str, ModuleType]:
    """Stand-in modules, by import name, for those of tqdm and torchvision not installed."""
    out: dict[str, ModuleType] = {}
    if importlib.util.find_spec("tqdm") is None:
        out["tqdm"] = ModuleType("tqdm")
        out["tqdm"].tqdm = _tqdm
    if importlib.util.find_spec("torchvision") is None:
        transforms = ModuleType("torchvision.transforms")
        transforms.Normalize = Normalize
        out["torchvision"] = ModuleType("torchvision")
        out["torchvision"].transforms = transforms
        out["torchvision.transforms"] = transforms
    return out


def alias_scipy_morphology() -> None:
    """Register ``scipy.ndimage.morphology`` as ``scipy.ndimage`` where SciPy no longer has it."""
    try:
        from scipy.ndimage import morphology  # noqa: F401
    except ImportError:
        import scipy.ndimage

        sys.modules["scipy.ndimage.morphology"] = scipy.ndimage
