"""The official GFM code (github.com/JizhiziLi/GFM, ``core/``), run unchanged, for parity checks,
golden values and benchmarks against matbench's port (plugins/matbench_zoo/gfm).

Set ``GFM_REF=/path/to/GFM`` (a checkout; the folder holding ``core/gfm.py``). What the official
files need and a modern environment may lack is stood in for while they are imported:
``torchvision.models`` (gfm.py builds its encoders from ``resnet34`` / ``resnet101`` /
``densenet121``; without torchvision they are matbench's copies, whose keys and outputs equal
torchvision's) and ``tqdm``. In-memory patches, undone after each call:

* ``gfm.models``: the classifiers are built without ``pretrained=True``'s download (the
  checkpoint holds their weights anyway);
* ``torch.Tensor.cuda`` is a no-op: ``util.collaborative_matting`` calls it unconditionally;
* ``test.resize`` is scikit-image 0.17.2's ``resize`` (what requirements.txt pins), see
  :func:`sk017_resize`.

    VARIANT                                      r34_2b / TT, the README's inference model
    weights(**variant)                           conditioned random weights (the plugin's)
    official_network(state, **variant)           gfm.GFM with those weights, eval mode
    official_predict(net, rgb, test_choice=..., pred_choice=...)   the PNG test_am2k writes, read back
    save_released(state, path, **variant)        a checkpoint as the released files are
"""
from __future__ import annotations

import math
import os
import tempfile
import warnings
from types import ModuleType, SimpleNamespace

import numpy as np
import torch
from torch import nn

from .loader import OfficialRepo
from .patches import cuda_as_noop, patched
from .stand_ins import missing_packages

#: the README's inference model (scripts/test/test_samples.sh); the AM-2k script defaults to r34 / TT
VARIANT = {"backbone": "r34_2b", "rosta": "TT"}


def _classifiers() -> SimpleNamespace:
    """``resnet34`` / ``resnet101`` / ``densenet121`` taking gfm.py's ``pretrained=True`` without
    downloading: torchvision's when installed, else matbench's copies."""
    try:
        from torchvision import models

        def make(name: str):
            return lambda pretrained=False: getattr(models, name)(weights=None)
    except Exception:   # not installed, or a build that does not match torch
        from matbench_zoo.gfm import backbones

        def make(name: str):
            return lambda pretrained=False: getattr(backbones, name)()
    return SimpleNamespace(resnet34=make("resnet34"), resnet101=make("resnet101"), densenet121=make("densenet121"))


def _stand_ins() -> dict[str, ModuleType]:
    out = missing_packages()
    try:
        import torchvision  # noqa: F401
    except Exception:
        models = ModuleType("torchvision.models")
        vars(models).update(vars(_classifiers()))
        out.setdefault("torchvision", ModuleType("torchvision")).models = models
        out["torchvision.models"] = models
    return out


REPO = OfficialRepo("GFM_REF", "github.com/JizhiziLi/GFM", "core", "gfm.py", stand_ins=_stand_ins)


# ----------------------------------------------------------------- scikit-image 0.17.2's resize

def _gaussian_kernel(sigma: float) -> np.ndarray:
    """SciPy 1.5.3's ``_gaussian_kernel1d(sigma, 0, int(4 sigma + 0.5))`` with the C library's
    exp (NumPy 1.19's result on the machines checked; today's NumPy exp differs by an ulp for
    some sigmas)."""
    radius = int(4.0 * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.array([math.exp(v) for v in -0.5 / (sigma * sigma) * x ** 2])
    return phi / phi.sum()


def sk017_resize(image: np.ndarray, output_shape: tuple[int, ...]) -> np.ndarray:
    """``skimage.transform.resize(image, output_shape)`` of scikit-image 0.17.2 with its defaults
    (order 1, mode 'reflect', anti-aliasing, clip), for H x W and H x W x C arrays.

    The steps of 0.17.2 on today's libraries: SciPy's ``correlate1d`` per axis in the image's own
    dtype (``gaussian_filter``: a uint8 photo is truncated after each pass), ``img_as_float``,
    the affine map 0.17.2 estimates (scale and shift of a normalised DLT solved by SVD; the
    plugin's ``sampling_map`` computes it the same way), today's ``skimage.transform.warp``,
    whose compiled bilinear kernel is 0.17.2's, and the clip to the input's range. Checked bit
    for bit against scikit-image 0.17.2 / SciPy 1.5.3 / NumPy 1.19.5 (see docs/models/gfm.md).
    """
    import scipy.ndimage as ndi
    from skimage.transform import warp
    from skimage.util import img_as_float

    from matbench_zoo.gfm.resize import sampling_map

    image = np.asarray(image)
    shape = (int(output_shape[0]), int(output_shape[1]))
    factors = np.asarray(image.shape[:2], dtype=float) / np.asarray(shape, dtype=float)
    filtered = image.copy()
    for axis, sigma in enumerate(np.maximum(0, (factors - 1) / 2)):
        if sigma > 1e-15:
            ndi.correlate1d(filtered, _gaussian_kernel(sigma)[::-1], axis, output=filtered, mode="mirror")
    as_float = img_as_float(filtered)
    sy, ty, sx, tx = sampling_map(image.shape[:2], shape)
    matrix = np.array([[sx, 0.0, tx], [0.0, sy, ty], [0.0, 0.0, 1.0]])
    out = warp(as_float, matrix, output_shape=shape, order=1, mode="reflect", clip=False, preserve_range=True)
    return np.clip(out, as_float.min(), as_float.max())


# ----------------------------------------------------------------- the harness interface

def weights(**variant: str) -> dict[str, torch.Tensor]:
    """Deterministic conditioned random weights of a variant (``VARIANT`` when none given)."""
    from matbench_zoo.gfm.conditioning import conditioned_state

    return conditioned_state(**{**VARIANT, **variant})


def official_network(state: dict[str, torch.Tensor], **variant: str) -> nn.Module:
    """The official ``gfm.GFM(args)`` of a variant, loaded strictly with ``state``, eval mode."""
    variant = {**VARIANT, **variant}
    gfm = REPO.module("gfm")
    with patched(gfm, models=_classifiers()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = gfm.GFM(SimpleNamespace(**variant))
    net.load_state_dict(state, strict=True)
    return net.eval()


def official_predict(net: nn.Module, rgb: np.ndarray, trimap: np.ndarray | None = None,
                     test_choice: str = "HYBRID", pred_choice: int = 3) -> np.ndarray:
    """The 8-bit PNG ``test.py`` ``test_am2k`` writes for ``rgb`` (H x W x 3 uint8), read back:
    ``inference_img_gfm`` with the network's own rosta, then ``cv2.imwrite`` of
    ``predict.astype(np.uint8)`` (pred_choice 1) or ``util.save_test_result`` (2, 3, 4).
    The official code runs on the device of ``net``."""
    import cv2

    test, util = REPO.module("test"), REPO.module("util")
    rgb = np.ascontiguousarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be H x W x 3 uint8, got {rgb.shape} {rgb.dtype}")
    args = SimpleNamespace(cuda=next(net.parameters()).is_cuda, rosta=net.rosta, test_choice=test_choice,
                           pred_choice=pred_choice)
    with patched(test, resize=sk017_resize), cuda_as_noop(), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predict = test.inference_img_gfm(args, net, rgb, args.rosta)[pred_choice - 1]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "alpha.png")
        if pred_choice == 1:
            cv2.imwrite(path, predict.astype(np.uint8))
        else:
            util.save_test_result(path, predict)
        return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def save_released(state: dict[str, torch.Tensor], path: str | os.PathLike, **variant: str) -> None:
    """``state`` as the released checkpoints are: ``torch.save`` of the bare model's
    ``state_dict()`` (train.py ``save_last_checkpoint``), no wrapper key, no ``module.`` prefix,
    every backbone tensor under both of its keys."""
    net = official_network(state, **variant)
    torch.save(net.state_dict(), path)
