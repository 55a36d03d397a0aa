"""The official IndexNet Matting code (github.com/poppinace/indexnet_matting, ``scripts/``) from
``$INDEXNET_REF``, for parity checks, golden fixtures and ``tools/bench_zoo.py IndexNet``.

``official_predict`` runs an official test script itself, unchanged, on one photo written to a
scratch folder, and returns the PNG the script writes: ``scripts/demo_indexnet_matting.py`` (the
default: the README's Composition-1k inference, the procedure of the published numbers) or
``scripts/demo.py``'s ``inference()`` (the README's quick demo; the same computation).

What differs from the authors' machine, in memory and undone after each call:

* NumPy >= 1.24 has no ``np.float``, which both scripts' ``image_alignment`` use: NumPy gets a
  ``float`` attribute (the builtin, which it aliased) while a script runs.
* torchvision is not installed here: ``hldataset.py`` imports ``transforms`` and ``utils`` from it
  and the script composes two official transforms: stand-ins with ``Compose`` (``_stand_ins``).
* ``demo_indexnet_matting.py`` is GPU-only (``inputs.cuda()``, ``torch.cuda.synchronize()``):
  those are no-ops, and CUDA is reported unavailable so both scripts run on the CPU.
* The scripts build ``hlmobilenetv2(...)`` and ``torch.load`` ``./pretrained/indexnet_matting.pth.tar``:
  the builder returns the given official network (checked to be asked for the released
  configuration) and the load returns that network's weights in the released format, which the
  script then loads into it as it would load the file.
* The Composition-1k script reads ``./lists/test.txt`` under ``DATA_DIR``: the scratch folder is
  the working directory and its list names the photo by absolute path (``os.path.join`` then
  ignores ``DATA_DIR``), with an all-zero ground truth (only the script's printed scores use it).
  Its prints are swallowed.
"""
from __future__ import annotations

import builtins
import contextlib
import importlib.util
import io
import os
import sys
import tempfile
import warnings
from collections import OrderedDict
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from PIL import Image

from .loader import OfficialRepo
from .patches import cuda_as_noop, patched
from .stand_ins import missing_packages

#: ``hlmobilenetv2(...)`` as the test scripts call it (demo_indexnet_matting.py:64-76, demo.py:31-43):
#: the configuration of the released checkpoint
CONFIG = dict(pretrained=False, freeze_bn=True, output_stride=32, apply_aspp=True, conv_operator="std_conv",
              decoder="indexnet", decoder_kernel_size=5, indexnet="depthwise", index_mode="m2o",
              use_nonlinear=True, use_context=True)
#: model options of matbench's IndexNet for the released variant (it has none)
VARIANT: dict = {}
#: the test scripts by ``official_predict``'s ``script`` argument
SCRIPTS = {"comp1k": "demo_indexnet_matting.py", "demo": "demo.py"}
#: where both scripts load the weights from (relative to their working directory)
RESTORE_FROM = "./pretrained/indexnet_matting.pth.tar"


class _Compose:
    """``torchvision.transforms.Compose``: the transforms applied in order."""

    def __init__(self, transforms: list) -> None:
        self.transforms = transforms

    def __call__(self, sample: Any) -> Any:
        for transform in self.transforms:
            sample = transform(sample)
        return sample


def _stand_ins() -> dict[str, ModuleType]:
    """tqdm / torchvision stand-ins of the AIM harness, plus what IndexNet's scripts take from
    torchvision: ``transforms.Compose`` and a ``utils`` module (imported, never used)."""
    out = missing_packages()
    if importlib.util.find_spec("torchvision") is None:
        out["torchvision.transforms"].Compose = _Compose
        out["torchvision.utils"] = ModuleType("torchvision.utils")
        out["torchvision"].utils = out["torchvision.utils"]
    return out


#: github.com/poppinace/indexnet_matting, from $INDEXNET_REF (its files live in scripts/)
REPO = OfficialRepo("INDEXNET_REF", "github.com/poppinace/indexnet_matting", "scripts", "hlmobilenetv2.py",
                    stand_ins=_stand_ins)


def weights(**variant: Any) -> dict[str, torch.Tensor]:
    """Deterministic conditioned random weights (matbench_zoo.indexnet.conditioning)."""
    from matbench_zoo.indexnet.conditioning import conditioned_state

    return conditioned_state(**variant)


def official_network(state: dict[str, torch.Tensor], **variant: Any) -> torch.nn.Module:
    """The official network of the released configuration with ``state`` loaded strictly, in eval mode."""
    if variant:
        raise ValueError(f"IndexNet has no model options, got {variant}")
    net = REPO.module("hlmobilenetv2").hlmobilenetv2(**CONFIG)
    net.load_state_dict(state, strict=True)
    return net.eval()


def released_format(state: dict[str, torch.Tensor]) -> dict:
    """``state`` as the released file holds it: ``{'state_dict': ...}`` with the ``module.``
    prefixes of the ``nn.DataParallel`` it was trained in (549 keys, BatchNorm counters included)."""
    return {"state_dict": OrderedDict(("module." + k, v) for k, v in state.items())}


def save_released(state: dict[str, torch.Tensor], path: str | os.PathLike, **variant: Any) -> None:
    """A checkpoint in the released file's format, written with PyTorch's legacy (non-zip)
    serialisation as PyTorch 0.4.1 / 1.1.0 wrote it."""
    if variant:
        raise ValueError(f"IndexNet has no model options, got {variant}")
    torch.save(released_format(state), path, _use_new_zipfile_serialization=False)


def official_predict(net: torch.nn.Module, rgb: np.ndarray, trimap: np.ndarray | None = None,
                     script: str = "comp1k") -> np.ndarray:
    """The 8-bit alpha an official test script writes for ``rgb`` (uint8 H x W x 3) and ``trimap``
    (uint8 H x W, 0/128/255) with the official network ``net``: ``script`` "comp1k"
    (demo_indexnet_matting.py) or "demo" (demo.py's ``inference``)."""
    if script not in SCRIPTS:
        raise ValueError(f"script must be one of {', '.join(SCRIPTS)}, got {script!r}")
    if trimap is None:
        raise ValueError("IndexNet is trimap-based: official_predict needs a trimap")
    with tempfile.TemporaryDirectory(prefix="indexnet-official-") as tmp:
        folder = Path(tmp)
        image_path, trimap_path = folder / "photo.png", folder / "photo_trimap.png"
        Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(image_path, compress_level=0)
        Image.fromarray(np.asarray(trimap, dtype=np.uint8)).save(trimap_path, compress_level=0)
        if script == "comp1k":
            alpha_path = folder / "photo_alpha.png"
            Image.fromarray(np.zeros(trimap.shape, np.uint8)).save(alpha_path, compress_level=0)
            (folder / "lists").mkdir()
            (folder / "lists" / "test.txt").write_text(f"{image_path}\t{alpha_path}\t{trimap_path}\n")
            _run_script(SCRIPTS[script], net, folder)
            written = folder / "results" / "indexnet_matting" / image_path.name
        else:
            namespace = _run_script(SCRIPTS[script], net, folder)
            with _script_environment(net, folder):
                namespace["inference"](str(image_path), str(trimap_path))
            written = folder / "examples" / "mattes" / image_path.name
        return np.array(Image.open(written))


@contextlib.contextmanager
def _script_environment(net: torch.nn.Module, folder: Path) -> Any:
    """What a test script needs to run here (see the module docstring), for the block."""
    modules = {name: REPO.module(name) for name in ("hlmobilenetv2", "hldataset", "utils", "hlvggnet")}
    released = released_format(net.state_dict())

    def load(path: Any, *args: Any, **kwargs: Any) -> dict:
        if path != RESTORE_FROM:
            raise AssertionError(f"the script loads {path!r}, expected {RESTORE_FROM!r}")
        return released

    def build(**config: Any) -> torch.nn.Module:
        if config != CONFIG:
            raise AssertionError(f"the script builds hlmobilenetv2({config}), not the released configuration")
        return net

    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.chdir(folder))
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(warnings.catch_warnings())          # demo.py calls filterwarnings("ignore")
        stack.enter_context(_modules_present({**_stand_ins(), **modules}))
        stack.enter_context(patched(torch, load=load))
        stack.enter_context(patched(torch.cuda, is_available=lambda: False, synchronize=lambda *a, **k: None))
        stack.enter_context(cuda_as_noop())
        stack.enter_context(patched(np, float=builtins.float))
        stack.enter_context(patched(modules["hlmobilenetv2"], hlmobilenetv2=build))
        yield


@contextlib.contextmanager
def _modules_present(modules: dict[str, ModuleType]) -> Any:
    """``modules`` importable by their names inside the block; ``sys.modules`` restored after."""
    saved = {name: sys.modules.get(name) for name in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _run_script(name: str, net: torch.nn.Module, folder: Path) -> dict:
    """Execute the official script ``scripts/<name>`` as a program (not ``__main__``), in
    ``folder``; returns its global namespace."""
    path = REPO.code_dir() / name
    namespace: dict = {"__name__": f"indexnet_official_{path.stem}", "__file__": str(path)}
    with _script_environment(net, folder):
        exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace
