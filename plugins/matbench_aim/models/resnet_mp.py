"""ResNet-34 with max-pooling everywhere (AIM's ``resnet34_mp``): a stride-1 7x7 stem and five
3x3/2 max-pools that return their indices (the local decoder unpools with them) instead of
strided convolutions. Parameter names follow the official backbone, so its ImageNet weights and
the AimNet checkpoints (which embed it under ``resnet.``) load unchanged."""
from __future__ import annotations

import torch
from torch import nn

from matbench.api import MODELS


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 conv-BN) shortcut; always stride 1."""

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = None
        if in_channels != channels:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, channels, 1, bias=False),
                                            nn.BatchNorm2d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


def _stage(in_channels: int, channels: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(BasicBlock(in_channels, channels),
                         *(BasicBlock(channels, channels) for _ in range(blocks - 1)))


@MODELS.register_module()
class ResNet34MP(nn.Module):
    """The backbone; ``forward`` is the ImageNet classifier used for AIM's stage 0."""

    #: a backbone, not a matting network (``matbench list training``)
    evaluable = False

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=1, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        for i in range(1, 6):
            setattr(self, f"maxpool{i}", nn.MaxPool2d(3, stride=2, padding=1, return_indices=True))
        self.layer1 = _stage(64, 64, 3)
        self.layer2 = _stage(64, 128, 4)
        self.layer3 = _stage(128, 256, 6)
        self.layer4 = _stage(256, 512, 3)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def attach_as_encoder(self, network: nn.Module) -> None:
        """Make this backbone ``network.resnet`` and give its stages the names AimNet's and
        P3M-Net's official code gives them (``encoder0``..``encoder4``, ``mp0``..``mp4``: the same
        modules twice, so their checkpoints hold the tied keys under both names)."""
        network.resnet = self
        network.encoder0 = nn.Sequential(self.conv1, self.bn1, self.relu)
        network.mp0, network.encoder1 = self.maxpool1, nn.Sequential(self.layer1)
        network.mp1, network.encoder2 = self.maxpool2, self.layer2
        network.mp2, network.encoder3 = self.maxpool3, self.layer3
        network.mp3, network.encoder4 = self.maxpool4, self.layer4
        network.mp4 = self.maxpool5

    def encode(self, x: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
        """The matting networks' encoder pass (AimNet, P3M-Net): the features
        ``(e0, e0p, e1, e2, e3, e4)`` (``e0p``: the stem's output max-pooled once, which P3M-Net's
        last fusion reads) and the indices of the five max-pools ``(id0, ..., id4)``, for the
        decoders' unpooling."""
        e0 = self.relu(self.bn1(self.conv1(x)))
        e0p, id0 = self.maxpool1(e0)
        e1p, id1 = self.maxpool2(e0p)
        e1 = self.layer1(e1p)
        e2p, id2 = self.maxpool3(e1)
        e2 = self.layer2(e2p)
        e3p, id3 = self.maxpool4(e2)
        e3 = self.layer3(e3p)
        e4p, id4 = self.maxpool5(e3)
        e4 = self.layer4(e4p)
        return (e0, e0p, e1, e2, e3, e4), (id0, id1, id2, id3, id4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool1(self.relu(self.bn1(self.conv1(x))))[0]
        x = self.layer1(self.maxpool2(x)[0])
        x = self.layer2(self.maxpool3(x)[0])
        x = self.layer3(self.maxpool4(x)[0])
        x = self.layer4(self.maxpool5(x)[0])
        return self.fc(torch.flatten(self.avgpool(x), 1))
