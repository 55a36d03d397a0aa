"""Runner models that turn dataset samples into predicted alpha mattes.

A trimap-based classical method and a network with an inference strategy are mmengine
``BaseModel`` subclasses whose ``test_step`` adds ``pred_alpha`` to each sample, so one Runner test loop
and one Evaluator serve them (a folder of PNGs needs neither: :mod:`.sources`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from mmengine.model import BaseModel

from ..errors import InputError, MatbenchError
from ..io import to_uint8, write_png_atomic
from ..models import TrimapMattingModel
from ..networks import (AMP_DTYPES, build_network, check_trimap_support, checked_alpha, image_tensor,
                        run_guarded, takes_trimap, trimap_tensor)
from ..registry import MODELS, STRATEGIES, build
from .sources import PredictionSource


def unbatch(data: Any) -> list[dict]:
    """The list of sample dicts in a batch (pseudo-collated dict of lists, or a list)."""
    if isinstance(data, dict):
        n = len(data["name"])
        return [{k: v[i] for k, v in data.items()} for i in range(n)]
    return list(data)


class Predictor(PredictionSource, BaseModel):
    """Base: ``predict(sample)`` gives the alpha; ``test_step`` checks it and attaches it."""

    def predict(self, sample: dict) -> np.ndarray:
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The model's name in messages."""
        return getattr(self, "model_cfg", {}).get("type", type(self).__name__)

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

    #: the official script's 8-bit saving rule (``matbench.io.SAVE_RULES``) when the model
    #: declares one: its 8-bit values are what is scored, as the authors scored them
    save_rule: str | None = None

    def attach(self, sample: dict) -> None:
        """Add the checked prediction as ``pred_alpha`` to `sample`, and keep it as
        ``save_dir/<name>.png`` when asked. A model with a ``save_rule`` is scored on the 8-bit
        values that rule writes; the others on their float alpha (kept rounded)."""
        alpha = self._checked(self.predict(sample), sample)
        alpha8 = to_uint8(alpha, self.save_rule or "round")
        sample["pred_alpha"] = alpha8 / 255.0 if self.save_rule else alpha
        if self.save_dir is not None:
            write_png_atomic(self.save_dir / f"{sample['name']}.png", alpha8)

    def _checked(self, pred: Any, sample: dict) -> np.ndarray:
        where = sample.get("image_path", sample["name"])
        return checked_alpha(pred, sample["image"].shape[:2], self.name, where)


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
        self.save_rule = getattr(self.method, "save_rule", None)

    def predict(self, sample: dict) -> np.ndarray:
        return self.method.predict(sample["image"], sample["trimap"])

    def code(self) -> list[object]:
        return [self, self.method]

    def published_as(self) -> dict[str, str]:
        return dict(getattr(self.method, "references", {}) or {})

    def describe(self) -> dict:
        return {"type": "TrimapPredictor", "model": self.model_cfg, "save_rule": self.save_rule}

    def test_label(self) -> str:
        return "trimap"


@MODELS.register_module()
class StrategyPredictor(Predictor):
    """A network (``MODELS``) applied to full-size images by an inference strategy (``STRATEGIES``).

    The strategy is called as ``strategy(network, image)`` with ``image`` a float64 1x3xHxW
    tensor in [0, 1] on the network's device, and returns the alpha as an HxW tensor; a
    trimap-based network (``inputs = ("image", "trimap")``) also gets the sample's trimap, as
    ``strategy(network, image, trimap=...)`` (the contract: :class:`matbench.api.Strategy`). ``amp``
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
        check_trimap_support(self.strategy, self.network, model["type"])
        #: a trimap-based network's predictions depend on the dataset's trimaps, as a method's do
        self.uses_trimap = takes_trimap(self.network)
        self.save_rule = getattr(self.network, "save_rule", None)

    @torch.no_grad()
    def predict(self, sample: dict) -> torch.Tensor:
        device = next(self.network.parameters()).device
        image = image_tensor(sample["image"], device)
        extra = {"trimap": trimap_tensor(sample["trimap"], device)} if self.uses_trimap else {}
        return run_guarded(lambda: self.strategy(self.network, image, **extra), device, self.amp,
                           sample.get("image_path", sample["name"]))

    def code(self) -> list[object]:
        return [self, self.strategy, self.network]

    def published_as(self) -> dict[str, str]:
        return dict(getattr(self.network, "references", {}) or {})

    def test_label(self) -> str:
        label = getattr(self.strategy, "label", None)
        return label() if callable(label) else str(self.strategy_cfg["type"])

    def describe(self) -> dict:
        return {"type": "StrategyPredictor", "model": self.model_cfg, "strategy": self.strategy_cfg,
                "checkpoint": str(Path(self.checkpoint).resolve()) if self.checkpoint else None,
                "random_weights": self.random_weights, "amp": self.amp, "channels_last": self.channels_last,
                "save_rule": self.save_rule}
