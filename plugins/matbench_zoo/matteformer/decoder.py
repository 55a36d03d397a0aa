"""MatteFormer's decoder (its ``networks/decoders/resnet_decoder.py``, GCA-Matting's ResNet
decoder with MG-Matting's shortcuts and progressive-refinement heads): four stages of residual
blocks that upsample 2x each, the encoder's shortcut maps added after each, and three alpha heads
at output strides 8, 4 and 1."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .spectral_norm import SpectralNorm


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)


def up_conv(channels: int) -> nn.ConvTranspose2d:
    """The 2x upsampling transposed convolution (kernel 4, stride 2, padding 1)."""
    return nn.ConvTranspose2d(channels, channels, kernel_size=4, stride=2, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Residual block: (spectral-norm transposed conv when upsampling, else conv3x3) -> BN ->
    LeakyReLU(0.2) -> conv3x3 -> BN, plus the identity (or ``upsample(x)``), LeakyReLU."""

    def __init__(self, in_channels: int, channels: int, upsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = SpectralNorm(up_conv(in_channels) if upsample is not None else conv3x3(in_channels, in_channels))
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.activation = nn.LeakyReLU(0.2, inplace=True)
        self.conv2 = SpectralNorm(conv3x3(in_channels, channels))
        self.bn2 = nn.BatchNorm2d(channels)
        self.upsample = upsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.activation(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.upsample(x) if self.upsample is not None else x
        return self.activation(out)


def head(in_channels: int, activation: nn.Module) -> nn.Sequential:
    """An alpha head: conv3x3 (no bias) -> BN -> the decoder's shared LeakyReLU -> conv3x3 to one
    logit channel (with bias)."""
    return nn.Sequential(conv3x3(in_channels, 32), nn.BatchNorm2d(32), activation,
                         nn.Conv2d(32, 1, kernel_size=3, padding=1))


class ResShortcutDecoder(nn.Module):
    """Stages of 2, 3, 3, 2 blocks (512 -> 256 -> 128 -> 64 -> 32 channels), a final spectral-norm
    transposed conv to full size; the encoder maps (32 @ 1, 32 @ 1/2, 64 @ 1/4, 128 @ 1/8,
    256 @ 1/16) are added along the way. Returns the alphas ``(tanh(logit) + 1) / 2`` of the
    OS1, OS4 and OS8 heads, the last two upsampled bilinearly (align_corners=False) as logits."""

    def __init__(self, blocks: tuple[int, ...] = (2, 3, 3, 2)) -> None:
        super().__init__()
        self.in_channels = 512
        self.conv1 = SpectralNorm(up_conv(32))
        self.bn1 = nn.BatchNorm2d(32)
        self.leaky_relu = nn.LeakyReLU(0.2, inplace=True)
        self.layer1 = self._stage(256, blocks[0])
        self.layer2 = self._stage(128, blocks[1])
        self.layer3 = self._stage(64, blocks[2])
        self.layer4 = self._stage(32, blocks[3])
        self.refine_OS1 = head(32, self.leaky_relu)
        self.refine_OS4 = head(64, self.leaky_relu)
        self.refine_OS8 = head(128, self.leaky_relu)

    def _stage(self, channels: int, n_blocks: int) -> nn.Sequential:
        upsample = nn.Sequential(nn.UpsamplingNearest2d(scale_factor=2),
                                 SpectralNorm(nn.Conv2d(self.in_channels, channels, kernel_size=1, bias=False)),
                                 nn.BatchNorm2d(channels))
        blocks = [BasicBlock(self.in_channels, channels, upsample)]
        blocks += [BasicBlock(channels, channels) for _ in range(1, n_blocks)]
        self.in_channels = channels
        return nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor, features: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        full, half, quarter, eighth, sixteenth = features
        x = self.layer1(x) + sixteenth
        x = self.layer2(x) + eighth
        logit8 = self.refine_OS8(x)
        x = self.layer3(x) + quarter
        logit4 = self.refine_OS4(x)
        x = self.layer4(x) + half
        x = self.leaky_relu(self.bn1(self.conv1(x))) + full
        logit1 = self.refine_OS1(x)
        logit4 = F.interpolate(logit4, scale_factor=4.0, mode="bilinear", align_corners=False)
        logit8 = F.interpolate(logit8, scale_factor=8.0, mode="bilinear", align_corners=False)
        return tuple((torch.tanh(logit) + 1.0) / 2.0 for logit in (logit1, logit4, logit8))
