"""MODNet's encoder: MobileNetV2 (width 1.0, expansion 6, no classifier) behind a wrapper that
returns the features of five strides.

Module names and nesting equal the official ``src/models/backbones/{wrapper,mobilenetv2}.py``
(``model.features.<i>...``), so the released checkpoints' backbone keys load unchanged. Never
loads pretrained weights: the official wrapper's ImageNet / human-segmentation initialisation
only matters for training, and the released checkpoints hold the trained backbone.
"""
from __future__ import annotations

import torch
from torch import nn

#: the inverted-residual stages of MobileNetV2 at width 1.0: (expansion, out channels, blocks, first stride)
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
STEM_CHANNELS = 32
LAST_CHANNELS = 1280
#: indices into ``features`` after which each stride's feature map is taken (2x, 4x, 8x, 16x, 32x)
TAPS = (1, 3, 6, 13, 18)


def conv_bn_relu6(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """Bias-free conv (zero padding keeping the size at stride 1), BatchNorm, ReLU6."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    """1x1 expansion (skipped at expansion 1), 3x3 depthwise conv, linear 1x1 projection; the input
    is added back when the block keeps stride and width."""

    def __init__(self, cin: int, cout: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = round(cin * expansion)
        self.use_res_connect = stride == 1 and cin == cout
        expand = [] if expansion == 1 else [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden),
                                            nn.ReLU6(inplace=True)]
        self.conv = nn.Sequential(
            *expand,
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2's feature extractor as one ``features`` sequence of 19 modules: the stride-2
    stem, 17 inverted residuals, and a 1x1 conv to 1280 channels."""

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn_relu6(in_channels, STEM_CHANNELS, 3, stride=2)]
        cin = STEM_CHANNELS
        for expansion, cout, blocks, stride in STAGES:
            for i in range(blocks):
                layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expansion))
                cin = cout
        layers.append(conv_bn_relu6(cin, LAST_CHANNELS, 1))
        self.features = nn.Sequential(*layers)


class MobileNetV2Backbone(nn.Module):
    """The encoder as MODNet uses it: ``forward`` returns the feature maps at strides 2, 4, 8,
    16 and 32 (``enc_channels`` wide)."""

    enc_channels = (16, 24, 32, 96, LAST_CHANNELS)

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__()
        self.model = MobileNetV2(in_channels)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        taps = []
        for i, layer in enumerate(self.model.features):
            x = layer(x)
            if i in TAPS:
                taps.append(x)
        return taps
