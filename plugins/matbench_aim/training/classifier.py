"""Stage 0: the ResNet-34-mp backbone as an ImageNet classifier, and loading its weights."""
from __future__ import annotations

from typing import Any, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from matbench.api import MODELS, PIPELINED_PREPROCESSOR, build, InputError, load_state_dict, unwrap_state


def load_backbone(backbone: nn.Module, path: str) -> None:
    """Load ImageNet weights into the backbone: a stage-0 checkpoint of :class:`ImageClassifier`
    (``backbone.*``), the official ``r34mp_pretrained_imagenet.pth.tar`` or torchvision's
    ``resnet34`` file (same parameter names and shapes: only the strides differ). Safe
    (weights only) and strict, except that a classifier head of another size is skipped."""
    state = load_state_dict(path)
    state = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")} or \
        unwrap_state(state, backbone.state_dict())
    own = backbone.state_dict()
    if state.get("fc.weight") is not None and state["fc.weight"].shape != own["fc.weight"].shape:
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    missing = [k for k in own if k not in state and not k.startswith("fc.")]
    bad = [k for k in state if k not in own or state[k].shape != own[k].shape]
    if missing or bad:
        raise InputError(path, f"not ResNet-34 weights (missing: {', '.join(missing[:3]) or '-'}; "
                               f"unexpected or mis-shaped: {', '.join(bad[:3]) or '-'})")
    backbone.load_state_dict(state, strict=False)


@MODELS.register_module()
class ImageClassifier(BaseModel):
    """A backbone whose ``forward`` gives class logits, trained with cross-entropy.

    ``pretrained``: optional weights for the backbone (see :func:`load_backbone`).
    ``channels_last``: NHWC memory layout for the backbone and its inputs."""

    def __init__(self, backbone: Optional[dict] = None, pretrained: Optional[str] = None,
                 channels_last: bool = False, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor or dict(PIPELINED_PREPROCESSOR), init_cfg=init_cfg)
        self.backbone = build(MODELS, backbone or dict(type="ResNet34MP"))
        if pretrained:
            load_backbone(self.backbone, pretrained)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            self.backbone.to(memory_format=torch.channels_last)

    def forward(self, inputs: torch.Tensor, label: Optional[torch.Tensor] = None, mode: str = "loss",
                **_: Any) -> Any:
        logits = self.backbone(inputs.contiguous(memory_format=self.memory_format))
        if mode == "loss":
            return {"loss_cls": F.cross_entropy(logits, label)}
        return [{"pred_label": int(p), "gt_label": int(t)} for p, t in zip(logits.argmax(1), label)]
