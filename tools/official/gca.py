"""The official GCA Matting code (github.com/Yaoyi-Li/GCA-Matting, from ``$GCA_REF``) run
unchanged: its network built from ``config/gca-dist.toml``, loaded as ``Tester.restore_model``
loads a checkpoint, and its two test procedures writing their own PNGs:

* ``procedure="test"`` (default): ``main.py --phase=test`` — ``ImageFileTest`` over folders
  holding the one photo, ``DataGenerator(phase='test', test_scale='origin')``, a batch-1
  ``DataLoader`` and ``Tester.test``, which saves ``<stem>.png`` into ``CONFIG.test.alpha_path``;
* ``procedure="demo"``: ``demo.py`` — ``generator_tensor_dict`` and ``single_inference`` (its
  ``.cuda()`` calls made no-ops; ``return_offset=False`` skips only the attention-offset
  pictures) and the ``cv2.imwrite`` of its ``__main__`` loop.

Configuration changes, none of which touches a pixel: ``test.cpu = true`` (CPU tensors),
``data.workers = 0`` (no loader processes), ``test.checkpoint`` unset (the network is given),
the data folders and ``alpha_path`` temporary. Stand-ins: ``easydict`` (``EasyDict``), ``toml``
(read by ``tomllib``), ``tensorboardX`` (``SummaryWriter``, logging only) and, without torchvision,
``torchvision.transforms.Compose``.

    GCA_REF=/path/to/GCA-Matting python -c "import official.gca as g; ..."
"""
from __future__ import annotations

import contextlib
import io
import importlib.util
import os
import tempfile
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

import cv2
import numpy as np
import torch
from torch import nn

from .loader import OfficialRepo
from .patches import cuda_as_noop, patched
from .stand_ins import missing_packages

#: the released models' configuration (gca-dist-all-data.toml differs only in data paths and training)
CONFIG_FILE = "config/gca-dist.toml"
PROCEDURES = ("test", "demo")


class EasyDict(dict):
    """``easydict.EasyDict``: a dict whose keys are also attributes (nested dicts converted)."""

    def __init__(self, data: dict | None = None, **kwargs: Any) -> None:
        super().__init__()
        for key, value in {**(data or {}), **kwargs}.items():
            self[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, dict) and not isinstance(value, EasyDict):
            value = EasyDict(value)
        super().__setitem__(key, value)

    __setattr__ = __setitem__

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


class _Compose:
    """``torchvision.transforms.Compose``: the transforms applied in order."""

    def __init__(self, transforms: Iterable[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, sample: Any) -> Any:
        for t in self.transforms:
            sample = t(sample)
        return sample


class _SummaryWriter:
    """``tensorboardX.SummaryWriter``, accepting and dropping everything (training logs only)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def _module(name: str, **attributes: Any) -> ModuleType:
    mod = ModuleType(name)
    for key, value in attributes.items():
        setattr(mod, key, value)
    return mod


def stand_ins() -> dict[str, ModuleType]:
    """Modules the official code imports that this environment may lack (the real ones win)."""
    out = missing_packages()
    if importlib.util.find_spec("torchvision") is None:
        out["torchvision.transforms"].Compose = _Compose
    wanted = {
        "easydict": lambda: _module("easydict", EasyDict=EasyDict),
        "toml": lambda: _module("toml", load=lambda f: tomllib.loads(f.read()), loads=tomllib.loads),
        "tensorboardX": lambda: _module("tensorboardX", SummaryWriter=_SummaryWriter),
    }
    for name, make in wanted.items():
        if importlib.util.find_spec(name) is None:
            out[name] = make()
    return out


REPO = OfficialRepo("GCA_REF", "github.com/Yaoyi-Li/GCA-Matting", ".", "networks/ops.py", stand_ins)
#: the released checkpoints have one architecture: no model options
VARIANT: dict = {}


def _configure() -> ModuleType:
    """``utils`` with ``CONFIG`` loaded from the released configuration (once) and set for CPU runs."""
    utils = REPO.module("utils")
    if utils.CONFIG.is_default:                     # main.py: utils.load_config(toml.load(f))
        utils.load_config(tomllib.loads((REPO.root() / CONFIG_FILE).read_text()))
    utils.CONFIG.test.cpu = True
    utils.CONFIG.data.workers = 0
    utils.CONFIG.test.checkpoint = None
    return utils


def weights(**variant: Any) -> dict[str, torch.Tensor]:
    """The conditioned seeded weights (matbench's key names, the official ones without ``module.``)."""
    from matbench_zoo.gca.conditioning import conditioned_state

    return conditioned_state(**variant)


def official_network(state: dict[str, torch.Tensor], **variant: Any) -> nn.Module:
    """The official generator of the released configuration, loaded as ``Tester.restore_model``
    loads a checkpoint (``remove_prefix_state_dict``, strict), in eval mode."""
    utils = _configure()
    networks = REPO.module("networks")
    net = networks.get_generator(encoder=utils.CONFIG.model.arch.encoder, decoder=utils.CONFIG.model.arch.decoder)
    net.load_state_dict(utils.remove_prefix_state_dict({f"module.{k}": v for k, v in state.items()}), strict=True)
    return net.eval()


def save_released(state: dict[str, torch.Tensor], path: str | os.PathLike, **variant: Any) -> None:
    """``state`` as the released ``gca-dist.pth`` is laid out: ``Trainer.save_model``'s dict of a
    DistributedDataParallel generator (every key ``module.``) without the optimizer state, which
    the README says was removed: ``iter``, ``loss`` (a 0-d tensor), ``state_dict``, ``lr_state_dict``."""
    model = nn.Linear(1, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=4e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=200000 - 5000)
    torch.save({"iter": 200000, "loss": torch.tensor(0.0123),
                "state_dict": {f"module.{k}": v for k, v in state.items()},
                "lr_state_dict": scheduler.state_dict()}, path)


def official_predict(net: nn.Module, rgb: np.ndarray, trimap: np.ndarray | None = None,
                     procedure: str = "test") -> np.ndarray:
    """The 8-bit alpha the official ``procedure`` ("test": main.py --phase=test, "demo": demo.py)
    writes for this photo (H x W x 3 uint8 RGB) and trimap (H x W uint8), read back from its PNG."""
    if procedure not in PROCEDURES:
        raise ValueError(f"procedure must be one of {PROCEDURES}, got {procedure!r}")
    if trimap is None:
        raise ValueError("GCA is trimap-based: official_predict needs the trimap")
    utils = _configure()
    with tempfile.TemporaryDirectory() as tmp:
        folders = {role: Path(tmp, role) for role in ("merged", "alpha", "trimap", "out")}
        for folder in folders.values():
            folder.mkdir()
        cv2.imwrite(str(folders["merged"] / "photo.png"), np.ascontiguousarray(rgb[:, :, ::-1]))
        cv2.imwrite(str(folders["trimap"] / "photo.png"), trimap)
        cv2.imwrite(str(folders["alpha"] / "photo.png"), trimap)    # read and scored by Tester, unused here
        with contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
            if procedure == "test":
                _run_tester(net, utils, folders)
            else:
                _run_demo(net, folders)
        return cv2.imread(str(folders["out"] / "photo.png"), cv2.IMREAD_UNCHANGED)


def _run_tester(net: nn.Module, utils: ModuleType, folders: dict[str, Path]) -> None:
    """main.py's test phase over the folders, with ``net`` as the tester's generator."""
    image_file = REPO.module("dataloader.image_file")
    data_generator = REPO.module("dataloader.data_generator")
    tester = REPO.module("tester")
    config = utils.CONFIG
    config.test.alpha_path = str(folders["out"])
    files = image_file.ImageFileTest(alpha_dir=str(folders["alpha"]), merged_dir=str(folders["merged"]),
                                     trimap_dir=str(folders["trimap"]))
    dataset = data_generator.DataGenerator(files, phase="test", test_scale=config.test.scale)
    loader = torch.utils.data.DataLoader(dataset, batch_size=config.test.batch_size, shuffle=False,
                                         num_workers=config.data.workers, drop_last=False)
    with patched(tester.Tester, build_model=lambda self: setattr(self, "G", net)):
        tester.Tester(test_dataloader=loader).test()


def _run_demo(net: nn.Module, folders: dict[str, Path]) -> None:
    """demo.py's loop body for the one photo."""
    demo = REPO.module("demo")
    sample = demo.generator_tensor_dict(str(folders["merged"] / "photo.png"), str(folders["trimap"] / "photo.png"))
    with cuda_as_noop():
        pred, _ = demo.single_inference(net, sample, return_offset=False)
    cv2.imwrite(str(folders["out"] / "photo.png"), pred)
