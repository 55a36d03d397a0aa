"""Runner models that turn dataset samples into predicted alpha mattes.

Every source of predictions — a folder of PNGs, a trimap-based classical method, a network with
an inference strategy — is an mmengine ``BaseModel`` whose ``test_step`` adds ``pred_alpha`` to
each sample, so one Runner test loop and one Evaluator serve them all.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from mmengine.model import BaseModel

from ..deterministic_weights import fill_deterministic
from ..errors import InputError, MatbenchError
from ..io import warn_misnamed
from ..models import TrimapMattingModel
from ..registry import MODELS, STRATEGIES, build


def unbatch(data: Any) -> list[dict]:
    """The list of sample dicts in a batch (pseudo-collated dict of lists, or a list)."""
    if isinstance(data, dict):
        n = len(data["name"])
        return [{k: v[i] for k, v in data.items()} for i in range(n)]
    return list(data)


class Predictor(BaseModel):
    """Base: ``predict(sample)`` gives the alpha; ``test_step`` checks it and attaches it."""

    #: What the samples must carry besides alpha and trimap.
    needs_image = True

    def predict(self, sample: dict) -> np.ndarray:
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The model's name in messages."""
        return getattr(self, "model_cfg", {}).get("type", type(self).__name__)

    def describe(self) -> dict:
        """What produced the predictions, for the results file."""
        return {"type": type(self).__name__}

    def input_files(self, name: str) -> dict[str, str]:
        """Files besides the dataset's that image `name`'s prediction is read from, by role."""
        return {}

    def test_label(self) -> str:
        """How the predictions were made, for the "Test" column of tables."""
        return ""

    def forward(self, *args, **kwargs):  # pragma: no cover - evaluation only uses test_step
        raise MatbenchError(f"{type(self).__name__} is for evaluation only")

    def test_step(self, data: Any) -> list[dict]:
        samples = unbatch(data)
        for sample in samples:
            if "error" in sample:
                raise MatbenchError(sample["error"])
            self.attach(sample)
            sample.pop("image", None)
        return samples

    def attach(self, sample: dict) -> None:
        """Add the prediction (``pred_alpha``, or a ``pred_path`` to read it from) to `sample`."""
        sample["pred_alpha"] = self._checked(self.predict(sample), sample)

    def _checked(self, pred: Any, sample: dict) -> np.ndarray:
        if isinstance(pred, torch.Tensor):
            pred = pred.detach().double().cpu().numpy()
        pred = np.asarray(pred, dtype=np.float64)
        where = sample.get("image_path", sample["name"])
        size = sample["image"].shape[:2]
        if pred.shape != size:
            raise InputError(where, f"{self.name} returned a {pred.shape} alpha for a {size} image")
        if not np.isfinite(pred).all():
            bad = int((~np.isfinite(pred)).sum())
            raise InputError(where, f"{self.name} produced {bad} NaN/inf alpha values")
        return pred


@MODELS.register_module()
class PredictionFolder(Predictor):
    """Precomputed mattes ``root/<name>.png`` (8-bit: /255; 16-bit: /65535), from any method."""

    needs_image = False

    def __init__(self, root: str) -> None:
        super().__init__()
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(self.root, "predictions folder does not exist")

    def check_names(self, names: list[str]) -> None:
        """Refuse missing and extra prediction files before anything is computed."""
        found = {p.stem for p in self.root.glob("*.png")}
        missing = sorted(set(names) - found)
        extra = sorted(found - set(names))
        if missing:
            raise InputError(self.root / f"{missing[0]}.png",
                             f"prediction missing ({len(missing)} of {len(names)} missing)")
        if extra:
            raise InputError(self.root / f"{extra[0]}.png",
                             f"prediction has no ground truth in the dataset ({len(extra)} extra files)")
        # headers only (~0.1 ms a file), in the main process before metric workers start: said
        # here, a JPEG named .png is reported once, and forked workers inherit that it was
        for name in sorted(names):
            if warn_misnamed(self.root / f"{name}.png"):
                break

    def attach(self, sample: dict) -> None:
        sample["pred_path"] = str(self.root / f"{sample['name']}.png")

    def input_files(self, name: str) -> dict[str, str]:
        return {"prediction": str(self.root / f"{name}.png")}

    def test_label(self) -> str:
        return "predictions"

    def describe(self) -> dict:
        return {"type": "PredictionFolder", "root": str(self.root.resolve())}


@MODELS.register_module()
class TrimapPredictor(Predictor):
    """A classical trimap-based method (a :class:`TrimapMattingModel` plugin) at native size."""

    #: its predictions depend on the dataset's trimaps (tables say when those were generated)
    uses_trimap = True

    def __init__(self, model: dict) -> None:
        super().__init__()
        self.model_cfg = dict(model)
        self.method = build(MODELS, model)
        if not isinstance(self.method, TrimapMattingModel):
            raise MatbenchError(f"model '{model['type']}' is not a trimap-based method")

    def predict(self, sample: dict) -> np.ndarray:
        return self.method.predict(sample["image"], sample["trimap"])

    def describe(self) -> dict:
        return {"type": "TrimapPredictor", "model": self.model_cfg}

    def test_label(self) -> str:
        return "trimap"


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint, loaded safely (``weights_only=True``).

    Accepts a plain state dict and ``{'state_dict': ...}`` (the official AIM files and
    mmengine's; mmengine's other entries — message hub, optimizer — are plain data too).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "checkpoint not found")
    if path.stat().st_size == 0:
        raise InputError(path, "empty checkpoint (0 bytes)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors have many types
        raise InputError(path, f"cannot load checkpoint safely: {first_line(exc)}") from None
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(path, "not a state dict (expected tensors, or {'state_dict': tensors})")
    if not state:
        raise InputError(path, "checkpoint holds no tensors (an empty state dict)")
    return state


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type name when the message is empty."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


#: where training wrappers keep the network: matbench's training models, DataParallel / DDP
WRAPPER_PREFIXES = ("network.", "module.network.", "module.")


def unwrap_state(state: dict[str, torch.Tensor], own: dict) -> dict[str, torch.Tensor]:
    """The network's part of a checkpoint written by a training wrapper (an mmengine
    checkpoint of a matbench training model holds ``network.*`` and preprocessor tensors)."""
    if any(k in state for k in own):
        return state
    for prefix in WRAPPER_PREFIXES:
        inner = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if inner and any(k in inner for k in own):
            return inner
    return state


def load_strict(network: torch.nn.Module, path: str | Path) -> None:
    """Load a checkpoint into `network` strictly, naming the first mismatched keys."""
    own = network.state_dict()
    state = unwrap_state(load_state_dict(path), own)
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
              for k in own if k in state and state[k].shape != own[k].shape]
    problems = [f"{label}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
                for label, keys in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", shapes))
                if keys]
    if problems:
        raise InputError(path, "checkpoint does not fit the model (" + "; ".join(problems) + ")")
    network.load_state_dict(state, strict=True)


AMP_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def image_tensor(rgb: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """uint8 H x W x 3 RGB -> 1 x 3 x H x W float64 in [0, 1] on ``device`` (the strategies' input)."""
    image = torch.tensor(rgb, dtype=torch.uint8, device=device)        # a copy: inputs may be read-only
    return image.permute(2, 0, 1)[None].double().div_(255)


def run_guarded(call: Callable[[], Any], device: torch.device, amp: str | None, where: Any) -> Any:
    """``call()`` under autocast when ``amp`` is set; a strategy's error (e.g. an image too small
    for it) becomes a one-line error naming the file ``where``."""
    with torch.autocast(device.type, dtype=AMP_DTYPES.get(amp), enabled=amp is not None):
        try:
            return call()
        except InputError:
            raise
        except MatbenchError as exc:
            raise InputError(where, str(exc)) from None


def build_network(model: dict, checkpoint: str | None, random_weights: bool, strategy: Any,
                  channels_last: bool = False) -> torch.nn.Module:
    """The network of ``model``, checked against ``strategy``, with its weights, in eval mode."""
    network = build(MODELS, model)
    check = getattr(strategy, "check_model", None)
    if check is not None:
        check(network)
    if checkpoint:
        load_strict(network, checkpoint)
    elif random_weights:
        fill_deterministic(network)          # the same "random" network on every machine
    else:
        raise MatbenchError(f"model '{model['type']}' needs --checkpoint (or --random-weights for "
                            "a smoke test; its results are marked as such)")
    if channels_last:
        network = network.to(memory_format=torch.channels_last)
    return network.eval()


@MODELS.register_module()
class StrategyPredictor(Predictor):
    """A network (``MODELS``) applied to full-size images by an inference strategy (``STRATEGIES``).

    The strategy is called as ``strategy(network, image)`` with ``image`` a float64 1x3xHxW
    tensor in [0, 1] on the network's device, and returns the alpha as an HxW tensor. ``amp``
    ('fp16' or 'bf16') runs the network under autocast; ``channels_last`` changes its memory layout.
    """

    def __init__(self, model: dict, strategy: dict, checkpoint: str | None = None,
                 random_weights: bool = False, amp: str | None = None, channels_last: bool = False) -> None:
        super().__init__()
        if amp is not None and amp not in AMP_DTYPES:
            raise MatbenchError(f"unknown --amp '{amp}' (known: {', '.join(AMP_DTYPES)})")
        self.model_cfg, self.strategy_cfg = dict(model), dict(strategy)
        self.strategy = build(STRATEGIES, strategy)
        self.network = build_network(model, checkpoint, random_weights, self.strategy, channels_last)
        self.checkpoint, self.random_weights = checkpoint, random_weights
        self.amp, self.channels_last = amp, channels_last

    @torch.no_grad()
    def predict(self, sample: dict) -> torch.Tensor:
        device = next(self.network.parameters()).device
        image = image_tensor(sample["image"], device)
        return run_guarded(lambda: self.strategy(self.network, image), device, self.amp,
                           sample.get("image_path", sample["name"]))

    def test_label(self) -> str:
        label = getattr(self.strategy, "label", None)
        return label() if callable(label) else str(self.strategy_cfg["type"])

    def describe(self) -> dict:
        return {"type": "StrategyPredictor", "model": self.model_cfg, "strategy": self.strategy_cfg,
                "checkpoint": str(Path(self.checkpoint).resolve()) if self.checkpoint else None,
                "random_weights": self.random_weights, "amp": self.amp, "channels_last": self.channels_last}
