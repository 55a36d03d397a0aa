"""``AimMattor``: AimNet with the loss of one AIM training stage, as an mmengine ``BaseModel``.

Training batches are the packed samples of the AIM training datasets (``inputs``, ``alpha``,
``trimap`` and, for stage 2, ``fg``/``bg``); validation and test batches are evaluation samples
(``image``, ``alpha``, ``trimap``, names and labels), predicted with an inference strategy at full
size and scored by matbench's ``ImageMetric`` — the same numbers as ``matbench eval``.
"""
from __future__ import annotations

from typing import Any, Optional

import torch
from mmengine.model import BaseModel

from matbench.api import MODELS, PIPELINED_PREPROCESSOR, STRATEGIES, build, image_tensor, unbatch


@MODELS.register_module()
class AimMattor(BaseModel):
    """``stage``: 'sod' (stage 1, DUTS) or 'matting' (stage 2, composition with USR).
    ``backbone_checkpoint``: ImageNet weights of the backbone (stage 0 output, or torchvision's
    ResNet-34 whose keys are the same) loaded into ``network.resnet`` at construction.
    ``channels_last``: NHWC memory layout for the network and its training inputs (faster
    convolutions on tensor cores; ``matbench train --channels-last``)."""

    def __init__(self, network: Optional[dict] = None, stage: str = "matting",
                 val_strategy: Optional[dict] = None, backbone_checkpoint: Optional[str] = None,
                 channels_last: bool = False, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor or dict(PIPELINED_PREPROCESSOR), init_cfg=init_cfg)
        self.network = build(MODELS, network or dict(type="AimNet"))
        # the backbone's ImageNet head is part of the official state dict but unused by AimNet:
        # without gradients it stays out of the optimiser's way and DDP's unused-parameter check
        head = getattr(getattr(self.network, "resnet", None), "fc", None)
        if head is not None:
            head.requires_grad_(False)
        self.loss = build(MODELS, dict(type="AimStageLoss", stage=stage))
        self.strategy = build(STRATEGIES, val_strategy or dict(type="hybrid"))
        if backbone_checkpoint:
            from .classifier import load_backbone

            load_backbone(self.network.resnet, backbone_checkpoint)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            self.network.to(memory_format=torch.channels_last)

    def forward(self, inputs: torch.Tensor, alpha: Optional[torch.Tensor] = None,
                trimap: Optional[torch.Tensor] = None, fg: Optional[torch.Tensor] = None,
                bg: Optional[torch.Tensor] = None, mode: str = "loss", **_: Any) -> Any:
        pred_global, pred_local, pred_fusion = self.network(inputs.contiguous(memory_format=self.memory_format))
        if mode == "loss":
            return self.loss(pred_global, pred_local, pred_fusion, alpha, trimap, image=inputs, fg=fg, bg=bg)
        return pred_fusion

    @torch.no_grad()
    def val_step(self, data: Any) -> list[dict]:
        device = next(self.network.parameters()).device
        samples = unbatch(data)
        for sample in samples:
            sample["pred_alpha"] = self.strategy(self.network, image_tensor(sample.pop("image"), device)) \
                .double().cpu().numpy()
        return samples

    test_step = val_step
