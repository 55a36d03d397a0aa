"""The official MatteFormer (github.com/webtoon/matteformer): its network (``networks.get_generator``)
and its test script (``inference.py``: ``generator_tensor_dict``, ``single_inference``, the save
line), run unchanged from ``$MATTEFORMER_REF``.

In memory only, for a CPU run on today's libraries:

* stand-ins for what the files import but inference does not use: ``timm`` (``DropPath``,
  ``to_2tuple``, ``trunc_normal_``: initialisation and stochastic depth), ``toml`` (read with the
  standard ``tomllib``), ``easydict`` (a dict with attribute access);
* ``np.float`` (removed in NumPy 1.24; ``utils/util.py`` meant ``float``) and ``.cuda()`` (a no-op
  on a CPU run; on a CUDA network the script runs on the GPU as written);
* the configuration is loaded the way inference.py's ``__main__`` loads it
  (``config/MatteFormer_Composition1k.toml`` through ``utils.load_config``).
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import tomllib
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import cv2
import numpy as np
import torch
from torch import nn

from .loader import OfficialRepo
from .patches import cuda_as_noop, patched
from .stand_ins import missing_packages

CONFIG_FILE = "config/MatteFormer_Composition1k.toml"


class _EasyDict(dict):
    """easydict.EasyDict: items readable and writable as attributes, nested dicts converted."""

    def __init__(self, items: dict | None = None) -> None:
        super().__init__()
        for key, value in (items or {}).items():
            self[key] = value

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, _EasyDict(value) if isinstance(value, dict) and not isinstance(value, _EasyDict) else value)


class _DropPath(nn.Module):
    """timm's DropPath: drops whole residual branches in training, the identity in eval."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


def _to_2tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x, x)


def stand_ins() -> dict[str, ModuleType]:
    """Modules the official files import, by import name, for those not installed."""
    import importlib.util

    out = missing_packages()
    if importlib.util.find_spec("timm") is None:
        layers = ModuleType("timm.models.layers")
        layers.DropPath, layers.to_2tuple, layers.trunc_normal_ = _DropPath, _to_2tuple, nn.init.trunc_normal_
        models = ModuleType("timm.models")
        models.layers = layers
        out.update({"timm": ModuleType("timm"), "timm.models": models, "timm.models.layers": layers})
        out["timm"].models = models
    if importlib.util.find_spec("toml") is None:
        out["toml"] = ModuleType("toml")
        out["toml"].load = lambda f: tomllib.loads(f.read())
    if importlib.util.find_spec("easydict") is None:
        out["easydict"] = ModuleType("easydict")
        out["easydict"].EasyDict = _EasyDict
    return out


#: github.com/webtoon/matteformer, from $MATTEFORMER_REF (the checkout's root holds inference.py)
REPO = OfficialRepo("MATTEFORMER_REF", "github.com/webtoon/matteformer", ".", "inference.py", stand_ins)
#: model options of the released variant (MatteFormer has one)
VARIANT: dict = {}


def weights(**variant: Any) -> dict[str, torch.Tensor]:
    """The conditioned deterministic weights (the plugin's ``conditioning``)."""
    from matbench_zoo.matteformer.conditioning import conditioned_state

    return conditioned_state(**variant)


def _configured() -> ModuleType:
    """The official ``utils`` with the test configuration loaded as inference.py's __main__ does."""
    utils = REPO.module("utils")
    if utils.CONFIG.is_default:
        with open(REPO.root() / CONFIG_FILE, "rb") as f:
            utils.load_config(tomllib.load(f))
    return utils


def official_network(state: dict[str, torch.Tensor], **variant: Any) -> nn.Module:
    """``networks.get_generator(is_train=False)`` loaded as inference.py loads its checkpoint
    (``remove_prefix_state_dict``, strict), in eval mode."""
    utils = _configured()
    networks = REPO.module("networks")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")             # torch.meshgrid's indexing warning
        model = networks.get_generator(is_train=False)
    model.load_state_dict(utils.remove_prefix_state_dict(dict(state)), strict=True)
    return model.eval()


@contextlib.contextmanager
def _runnable(model: nn.Module) -> Iterator[None]:
    """``np.float`` as the script meant it; ``.cuda()`` a no-op unless the model is on CUDA."""
    on_cuda = next(model.parameters()).is_cuda
    with patched(np, float=float), (contextlib.nullcontext() if on_cuda else cuda_as_noop()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")             # F.upsample_bilinear's deprecation
        yield


def official_predict(net: nn.Module, rgb: np.ndarray, trimap: np.ndarray | None = None, refine_width1: int = 30,
                     refine_width2: int = 15) -> np.ndarray:
    """The 8-bit alpha inference.py writes for this photo (uint8 HxW): the photo and trimap as
    PNG files read by ``generator_tensor_dict``, ``single_inference``, the script's save line
    (a 3-channel grey PNG through ``cv2.imwrite``), read back. The refinement widths are the
    configuration's ``model.self_refine_width1`` / ``width2`` (30 and 15 in the released
    config), set for this call only."""
    if trimap is None:
        raise ValueError("MatteFormer is trimap-based: pass trimap=")
    config = _configured().CONFIG.model
    inference = REPO.module("inference")
    saved_widths = config.self_refine_width1, config.self_refine_width2
    config.self_refine_width1, config.self_refine_width2 = refine_width1, refine_width2
    try:
        with tempfile.TemporaryDirectory() as tmp, _runnable(net):
            image_path, trimap_path, out_path = (os.path.join(tmp, n) for n in ("image.png", "trimap.png", "alpha.png"))
            cv2.imwrite(image_path, np.ascontiguousarray(rgb[:, :, ::-1]))
            cv2.imwrite(trimap_path, trimap)
            alpha = inference.single_inference(net, inference.generator_tensor_dict(image_path, trimap_path))
            cv2.imwrite(out_path, cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB))
            saved = cv2.imread(out_path, cv2.IMREAD_UNCHANGED)
    finally:
        config.self_refine_width1, config.self_refine_width2 = saved_widths
    if saved.ndim != 3 or not (saved == saved[..., :1]).all():
        raise AssertionError("inference.py's output PNG is not a 3-channel grey image")
    return saved[..., 0]


def save_released(state: dict[str, torch.Tensor], path: str | os.PathLike, **variant: Any) -> None:
    """A checkpoint as trainers/trainer.py ``save_model`` writes it (the released best_model.pth):
    ``iter``, ``loss`` ({'mse', 'sad'}), ``state_dict`` of the DistributedDataParallel model
    (every key ``module.``), ``opt_state_dict`` (Adam) and ``lr_state_dict`` (CosineAnnealingLR).
    The optimizer moments are left out (``state`` empty) to keep the file the network's size:
    inference reads only ``state_dict``."""
    params = [k for k, v in state.items() if v.is_floating_point() and not k.endswith(("running_mean", "running_var"))]
    torch.save({
        "iter": 200000,
        "loss": {"mse": torch.tensor(0.0040), "sad": torch.tensor(23.8)},
        "state_dict": {f"module.{k}": v for k, v in state.items()},
        "opt_state_dict": {"state": {}, "param_groups": [{
            "lr": 0.0, "betas": (0.5, 0.999), "eps": 1e-08, "weight_decay": 0, "amsgrad": False,
            "maximize": False, "foreach": None, "capturable": False, "differentiable": False, "fused": None,
            "initial_lr": 0.001, "params": list(range(len(params)))}]},
        "lr_state_dict": {"T_max": 190000, "eta_min": 0, "base_lrs": [0.001], "last_epoch": 190000,
                          "verbose": False, "_step_count": 190001, "_get_lr_called_within_step": False,
                          "_last_lr": [0.0]},
    }, path)


def run_script(checkpoint: str | os.PathLike, image_dir: str | os.PathLike, trimap_dir: str | os.PathLike,
               output: str | os.PathLike) -> None:
    """inference.py's ``__main__`` itself (``--checkpoint --image-dir --trimap-dir --output``), on
    the CPU: it lists ``image_dir``, reads each trimap under the same file name and writes
    ``output/pred_alpha/<name>``."""
    import runpy

    REPO.module("inference")                       # the stand-ins and caches, as for the functions above
    argv = [str(REPO.root() / "inference.py"), "--config", str(REPO.root() / CONFIG_FILE), "--checkpoint",
            str(checkpoint), "--image-dir", str(image_dir), "--trimap-dir", str(trimap_dir),
            "--output", str(Path(output)) + os.sep]
    old_argv, old_path, cwd = sys.argv, list(sys.path), os.getcwd()
    saved = {n: sys.modules.get(n) for n in stand_ins()}
    try:
        sys.argv = argv
        sys.path.insert(0, str(REPO.code_dir()))
        sys.modules.update(stand_ins())
        sys.modules.update({n: m for n, m in REPO._loaded.items()})
        with patched(np, float=float), cuda_as_noop():
            runpy.run_path(argv[0], run_name="__main__")
    finally:
        sys.argv, sys.path[:] = old_argv, old_path
        os.chdir(cwd)
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        for name in REPO._loaded:
            sys.modules.pop(name, None)
