"""AimNet (Li et al., IJCAI-21): a ResNet-34-mp encoder, a global decoder that classifies each
pixel as background / transition / foreground, and a local decoder that predicts alpha in
detail; the fusion takes the local alpha inside the predicted transition region.

Module names and nesting equal the official ``core/network/AimNet.py``: the encoder stages are
aliases of the backbone's modules (``encoder0..4`` and ``resnet.*`` share tensors), so the
state dict holds the backbone twice, exactly like the official checkpoints — they load with
``strict=True``. All bilinear resampling uses ``align_corners=False``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import MODELS

from .resnet_mp import ResNet34MP

#: ImageNet statistics the network was trained with (inputs are RGB in [0, 1] before this)
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def conv_bn_relu(*channels: int, dilation: int = 1, upsample: int = 0) -> nn.Sequential:
    """3x3 conv-BN-ReLU for each consecutive channel pair, optionally ending in a bilinear x`upsample`."""
    layers: list[nn.Module] = []
    for cin, cout in zip(channels[:-1], channels[1:]):
        layers += [nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation),
                   nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if upsample:
        layers.append(nn.Upsample(scale_factor=upsample, mode="bilinear", align_corners=False))
    return nn.Sequential(*layers)


class SELayer(nn.Module):
    """Squeeze-and-excitation: channels re-weighted by a 2-layer gate on their global means."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction, bias=False), nn.ReLU(inplace=True),
                                nn.Linear(channels // reduction, channels, bias=False), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.fc(self.avg_pool(x).flatten(1))
        return x * gate[:, :, None, None]


class PSPModule(nn.Module):
    """Pyramid pooling: the features, pooled to each grid size, 1x1-projected, upsampled back and
    concatenated with the input, then fused by a 1x1 conv and a ReLU."""

    def __init__(self, channels: int, out_channels: int, sizes: tuple[int, ...], align_corners: bool = False) -> None:
        super().__init__()
        self.stages = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(size), nn.Conv2d(channels, channels, 1, bias=False))
            for size in sizes)
        self.bottleneck = nn.Conv2d(channels * (len(sizes) + 1), out_channels, 1)
        self.relu = nn.ReLU()
        #: how the pooled grids are upsampled back (AimNet: False; GFM: True)
        self.align_corners = align_corners

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[2:]
        pooled = [F.interpolate(stage(x), size=size, mode="bilinear", align_corners=self.align_corners)
                  for stage in self.stages]
        return self.relu(self.bottleneck(torch.cat(pooled + [x], 1)))


def fuse_global_local(global_sigmoid: torch.Tensor, local_sigmoid: torch.Tensor) -> torch.Tensor:
    """1 where the global argmax is foreground, the local alpha where it is transition, else 0."""
    cls = global_sigmoid.argmax(1, keepdim=True)
    return local_sigmoid * (cls == 1) + (cls == 2).to(local_sigmoid.dtype)


@MODELS.register_module()
class AimNet(nn.Module):
    """The AIM network. ``forward(x)`` takes ImageNet-normalised RGB of a size divisible by 32 and
    returns ``(global, local, fusion)``: 3-channel sigmoid (bg / transition / fg), the local
    alpha and the fused alpha, each at the input's size."""

    #: what ``forward`` returns, in order: inference strategies pick the outputs they need by name
    output_names = ("global", "local", "fusion")
    #: inputs must be divisible by this (five 2x poolings)
    size_divisor = 32
    #: matbench's defaults: the network of ``eval --strategy`` / ``predict`` without --model, its strategy
    default_network = True
    default_strategy = "hybrid"
    #: where the weights come from (matbench downloads none)
    weights = ("the official AimNet weights are linked from the AIM README (github.com/JizhiziLi/AIM, "
               "'Pretrained Models'); pass the file with --checkpoint")

    def __init__(self) -> None:
        super().__init__()
        ResNet34MP().attach_as_encoder(self)       # resnet.*, and encoder0..4 / mp0..4 (official names)
        # global (semantic) decoder
        self.psp_module = PSPModule(512, 512, (1, 3, 5))
        self.psp4 = self._psp_side(256, 2)
        self.psp3 = self._psp_side(128, 4)
        self.psp2 = self._psp_side(64, 8)
        self.psp1 = self._psp_side(64, 16)
        self.decoder4_g = conv_bn_relu(1024, 512, 512, 256, upsample=2)
        self.decoder4_g_se = SELayer(256)
        self.decoder3_g = conv_bn_relu(512, 256, 256, 128, upsample=2)
        self.decoder3_g_se = SELayer(128)
        self.decoder2_g = conv_bn_relu(256, 128, 128, 64, upsample=2)
        self.decoder2_g_se = SELayer(64)
        self.decoder1_g = conv_bn_relu(128, 64, 64, 64, upsample=2)
        self.decoder1_g_se = SELayer(64)
        self.decoder0_g = conv_bn_relu(128, 64, 64, upsample=2)
        self.decoder0_g_spatial = nn.Conv2d(2, 1, 7, padding=3)
        self.decoder0_g_se = SELayer(64)
        self.decoder_final_g = nn.Conv2d(64, 3, 3, padding=1)
        # local (matting) decoder
        self.bridge_block = conv_bn_relu(512, 512, 512, 512, dilation=2)
        self.decoder4_l = conv_bn_relu(1024, 512, 512, 256)
        self.decoder3_l = conv_bn_relu(512, 256, 256, 128)
        self.decoder2_l = conv_bn_relu(256, 128, 128, 64)
        self.decoder1_l = conv_bn_relu(128, 64, 64, 64)
        self.decoder0_l = conv_bn_relu(128, 64, 64)
        self.decoder_final_l = nn.Conv2d(64, 1, 3, padding=1)

    @staticmethod
    def _psp_side(channels: int, upsample: int) -> nn.Sequential:
        return conv_bn_relu(512, channels, upsample=upsample)

    @staticmethod
    def normalize(image: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] (N x 3 x H x W) -> the network's input."""
        mean = image.new_tensor(MEAN)[:, None, None]
        std = image.new_tensor(STD)[:, None, None]
        return (image - mean) / std

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        (e0, _, e1, e2, e3, e4), (id0, id1, id2, id3, id4) = self.resnet.encode(x)

        psp = self.psp_module(e4)
        d4_g = self.decoder4_g_se(self.decoder4_g(torch.cat((psp, e4), 1)))
        d3_g = self.decoder3_g_se(self.decoder3_g(torch.cat((self.psp4(psp), d4_g), 1)))
        d2_g = self.decoder2_g_se(self.decoder2_g(torch.cat((self.psp3(psp), d3_g), 1)))
        d1_g = self.decoder1_g_se(self.decoder1_g(torch.cat((self.psp2(psp), d2_g), 1)))
        d0_g = self.decoder0_g(torch.cat((self.psp1(psp), d1_g), 1))
        channel_stats = torch.cat((d0_g.mean(1, keepdim=True), d0_g.amax(1, keepdim=True)), 1)
        attention = torch.sigmoid(self.decoder0_g_spatial(channel_stats))
        global_sigmoid = torch.sigmoid(self.decoder_final_g(self.decoder0_g_se(d0_g)))

        d4_l = self.decoder4_l(torch.cat((self.bridge_block(e4), e4), 1))
        d3_l = self.decoder3_l(torch.cat((F.max_unpool2d(d4_l, id4, 2, 2), e3), 1))
        d2_l = self.decoder2_l(torch.cat((F.max_unpool2d(d3_l, id3, 2, 2), e2), 1))
        d1_l = self.decoder1_l(torch.cat((F.max_unpool2d(d2_l, id2, 2, 2), e1), 1))
        d0_l = F.max_unpool2d(F.max_unpool2d(d1_l, id1, 2, 2), id0, 2, 2)
        d0_l = self.decoder0_l(torch.cat((d0_l, e0), 1))
        d0_l = d0_l + d0_l * attention
        local_sigmoid = torch.sigmoid(self.decoder_final_l(d0_l))
        return global_sigmoid, local_sigmoid, fuse_global_local(global_sigmoid, local_sigmoid)
