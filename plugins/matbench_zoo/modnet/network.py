"""MODNet (Ke et al., AAAI 2022): a MobileNetV2 encoder whose low-resolution branch predicts
portrait semantics, a high-resolution branch for boundary detail, and a fusion branch that
combines them into the alpha.

Module names and nesting equal the official ``src/models/modnet.py`` at github.com/ZHKKKe/MODNet
(the code of the released checkpoints: the SE-block version of arXiv v1/v2; the e-ASPP of the
AAAI paper is not in it). The encoder is registered twice, as ``backbone`` and as
``lr_branch.backbone``, exactly like the official network, so the state dict holds every
backbone tensor under both names as the released files do, and loading refuses two differing
copies. The training-only heads (``lr_branch.conv_lr``, ``hr_branch.conv_hr``) are kept: the
checkpoints hold them, and ``forward(x, inference=False)`` computes them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import MODELS, InputError, MatbenchError, load_state_dict, load_strict

from .backbone import MobileNetV2Backbone


def upsample2(x: torch.Tensor) -> torch.Tensor:
    """x2 bilinear upsampling (``align_corners=False``), as every upsampling of MODNet."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class IBNorm(nn.Module):
    """BatchNorm on the first half of the channels, InstanceNorm (no affine, per-image statistics
    also in eval mode) on the rest."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bnorm_channels = channels // 2
        self.inorm_channels = channels - self.bnorm_channels
        self.bnorm = nn.BatchNorm2d(self.bnorm_channels)
        self.inorm = nn.InstanceNorm2d(self.inorm_channels, affine=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        split = self.bnorm_channels
        # both halves are made contiguous as the official layer does, so the kernels (and their
        # float rounding) are the same
        return torch.cat((self.bnorm(x[:, :split].contiguous()), self.inorm(x[:, split:].contiguous())), 1)


class Conv2dIBNormRelu(nn.Module):
    """A biased conv, then optionally IBNorm and ReLU, as one ``layers`` sequence."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0,
                 with_ibn: bool = True, with_relu: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding)]
        if with_ibn:
            layers.append(IBNorm(cout))
        if with_relu:
            layers.append(nn.ReLU(inplace=True))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def head(cin: int, kernel: int, stride: int = 1, padding: int = 0) -> Conv2dIBNormRelu:
    """A one-channel output conv (logits: no norm, no ReLU)."""
    return Conv2dIBNormRelu(cin, 1, kernel, stride, padding, with_ibn=False, with_relu=False)


class SEBlock(nn.Module):
    """Squeeze-and-excitation: each channel scaled by a sigmoid gate computed from the channel means."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction, bias=False), nn.ReLU(inplace=True),
                                nn.Linear(channels // reduction, channels, bias=False), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        gate = self.fc(self.pool(x).view(n, c)).view(n, c, 1, 1)
        return x * gate.expand_as(x)


class LRBranch(nn.Module):
    """The encoder, then the semantic path: SE gate on the stride-32 features and two
    upsample-and-conv steps to stride 8 (``lr8x``). Returns the semantic prediction (training
    only), ``lr8x`` and the stride-2 and stride-4 encoder features."""

    def __init__(self, backbone: MobileNetV2Backbone) -> None:
        super().__init__()
        enc = backbone.enc_channels
        self.backbone = backbone
        self.se_block = SEBlock(enc[4], reduction=4)
        self.conv_lr16x = Conv2dIBNormRelu(enc[4], enc[3], 5, padding=2)
        self.conv_lr8x = Conv2dIBNormRelu(enc[3], enc[2], 5, padding=2)
        self.conv_lr = head(enc[2], 3, stride=2, padding=1)

    def forward(self, img: torch.Tensor, inference: bool) -> tuple:
        enc2x, enc4x, _, _, enc32x = self.backbone(img)
        lr16x = self.conv_lr16x(upsample2(self.se_block(enc32x)))
        lr8x = self.conv_lr8x(upsample2(lr16x))
        semantic = None if inference else torch.sigmoid(self.conv_lr(lr8x))
        return semantic, lr8x, (enc2x, enc4x)


class HRBranch(nn.Module):
    """The detail path at strides 4 and 2, fed with the image (bilinear 1/2 and 1/4, no
    anti-aliasing), the stride-2 and stride-4 encoder features and ``lr8x``. Returns the detail
    prediction (training only) and the stride-2 features ``hr2x``."""

    def __init__(self, hr: int, enc: tuple[int, ...]) -> None:
        super().__init__()
        self.tohr_enc2x = Conv2dIBNormRelu(enc[0], hr, 1)
        self.conv_enc2x = Conv2dIBNormRelu(hr + 3, hr, 3, stride=2, padding=1)
        self.tohr_enc4x = Conv2dIBNormRelu(enc[1], hr, 1)
        self.conv_enc4x = Conv2dIBNormRelu(2 * hr, 2 * hr, 3, padding=1)
        self.conv_hr4x = nn.Sequential(Conv2dIBNormRelu(3 * hr + 3, 2 * hr, 3, padding=1),
                                       Conv2dIBNormRelu(2 * hr, 2 * hr, 3, padding=1),
                                       Conv2dIBNormRelu(2 * hr, hr, 3, padding=1))
        self.conv_hr2x = nn.Sequential(Conv2dIBNormRelu(2 * hr, 2 * hr, 3, padding=1),
                                       Conv2dIBNormRelu(2 * hr, hr, 3, padding=1),
                                       Conv2dIBNormRelu(hr, hr, 3, padding=1),
                                       Conv2dIBNormRelu(hr, hr, 3, padding=1))
        self.conv_hr = nn.Sequential(Conv2dIBNormRelu(hr + 3, hr, 3, padding=1), head(hr, 1))

    def forward(self, img: torch.Tensor, enc2x: torch.Tensor, enc4x: torch.Tensor, lr8x: torch.Tensor,
                inference: bool) -> tuple:
        img2x = F.interpolate(img, scale_factor=1 / 2, mode="bilinear", align_corners=False)
        img4x = F.interpolate(img, scale_factor=1 / 4, mode="bilinear", align_corners=False)
        enc2x = self.tohr_enc2x(enc2x)
        hr4x = self.conv_enc2x(torch.cat((img2x, enc2x), 1))
        hr4x = self.conv_enc4x(torch.cat((hr4x, self.tohr_enc4x(enc4x)), 1))
        hr4x = self.conv_hr4x(torch.cat((hr4x, upsample2(lr8x), img4x), 1))
        hr2x = self.conv_hr2x(torch.cat((upsample2(hr4x), enc2x), 1))
        detail = None if inference else torch.sigmoid(self.conv_hr(torch.cat((upsample2(hr2x), img), 1)))
        return detail, hr2x


class FusionBranch(nn.Module):
    """``lr8x`` brought to stride 2, joined with ``hr2x``, upsampled to full size and joined with
    the image; a 1x1 head and a sigmoid give the alpha."""

    def __init__(self, hr: int, enc: tuple[int, ...]) -> None:
        super().__init__()
        self.conv_lr4x = Conv2dIBNormRelu(enc[2], hr, 5, padding=2)
        self.conv_f2x = Conv2dIBNormRelu(2 * hr, hr, 3, padding=1)
        self.conv_f = nn.Sequential(Conv2dIBNormRelu(hr + 3, hr // 2, 3, padding=1), head(hr // 2, 1))

    def forward(self, img: torch.Tensor, lr8x: torch.Tensor, hr2x: torch.Tensor) -> torch.Tensor:
        lr2x = upsample2(self.conv_lr4x(upsample2(lr8x)))
        f2x = self.conv_f2x(torch.cat((lr2x, hr2x), 1))
        return torch.sigmoid(self.conv_f(torch.cat((upsample2(f2x), img), 1)))


@MODELS.register_module()
class MODNet(nn.Module):
    """MODNet (Ke et al., AAAI 2022), real-time trimap-free portrait matting. ``forward(x)`` takes
    RGB scaled to [-1, 1] (``normalize``) with sides divisible by 32 and returns the alpha
    (N x 1 x H x W); ``forward(x, inference=False)`` returns the official training triple
    (semantic at stride 16, detail, alpha).

    ``hr_channels``: the width of the high-resolution and fusion branches (32 in both released
    checkpoints, the only official variant)."""

    output_names = ("alpha",)
    size_divisor = 32
    #: the official Colab demo (demo/image_matting/colab/inference.py), see strategies.py
    default_strategy = "modnet-colab"
    #: the demo saves ``(matte * 255).astype('uint8')``
    save_rule = "truncate"
    weights = ("the official checkpoints (modnet_photographic_portrait_matting.ckpt for images, "
               "modnet_webcam_portrait_matting.ckpt for video) are in the Google Drive folder linked from "
               "github.com/ZHKKKe/MODNet pretrained/README.md (Apache-2.0); pass the file with --checkpoint")

    def __init__(self, hr_channels: int = 32) -> None:
        super().__init__()
        if hr_channels < 2:
            raise MatbenchError(f"MODNet: hr_channels must be at least 2, got {hr_channels}")
        self.hr_channels = hr_channels
        self.backbone = MobileNetV2Backbone()
        enc = self.backbone.enc_channels
        self.lr_branch = LRBranch(self.backbone)           # the same module: its tensors appear twice
        self.hr_branch = HRBranch(hr_channels, enc)
        self.f_branch = FusionBranch(hr_channels, enc)

    @staticmethod
    def normalize(image: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> [-1, 1], as the official ``Normalize((0.5,) * 3, (0.5,) * 3)``."""
        return (image - 0.5) / 0.5

    def fill_random_weights(self) -> None:
        """``--random-weights``: the deterministic, conditioned weights of the parity tests (an
        alpha that spans (0, 1), where plain seeded weights saturate)."""
        from .conditioning import conditioned_state

        self.load_state_dict(conditioned_state(hr_channels=self.hr_channels))

    def forward(self, img: torch.Tensor, inference: bool = True):
        semantic, lr8x, (enc2x, enc4x) = self.lr_branch(img, inference)
        detail, hr2x = self.hr_branch(img, enc2x, enc4x, lr8x, inference)
        matte = self.f_branch(img, lr8x, hr2x)
        return matte if inference else (semantic, detail, matte)

    def load_checkpoint(self, path: str) -> None:
        """Load a checkpoint strictly (the released files: a plain state dict, ``module.``
        prefixes, the backbone twice); a file of another ``hr_channels`` is named as such."""
        try:
            load_strict(self, path)
        except InputError as exc:
            if "mis-shaped" not in str(exc):
                raise
            width = _hr_channels_of(load_state_dict(path))
            if width is not None and width != self.hr_channels:
                raise InputError(path, f"a MODNet checkpoint with hr_channels={width}; pass --model-option "
                                       f"hr_channels={width}") from None
            raise


def _hr_channels_of(state: dict[str, torch.Tensor]) -> int | None:
    """The ``hr_channels`` a MODNet state dict was built with (the output width of
    ``hr_branch.tohr_enc2x``), or None when the key is absent."""
    for key, value in state.items():
        if key.endswith("hr_branch.tohr_enc2x.layers.0.weight") and value.dim() == 4:
            return int(value.shape[0])
    return None
