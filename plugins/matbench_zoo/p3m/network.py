"""P3M-Net (Li, Ma, Zhang, Tao, "Privacy-Preserving Portrait Matting", ACM MM 2021), module for
module the official ``core/network/P3mNet.py`` of github.com/JizhiziLi/P3M (the ResNet-34 network,
not the later ViTAE/Swin repository).

A ResNet-34-mp encoder (AIM's backbone, imported from ``matbench_aim``: the official file is the
same) feeds two decoders. The semantic (global) decoder upsamples by bilinear x2 steps and predicts
three logits (background / transition / foreground); after its stages 3, 2 and 1 a DBFI block mixes
in the deepest encoder features. The matting (local) decoder stays at each stage's resolution and
is upsampled by max-unpooling with the encoder's pooling indices; before each stage a TFI block
merges the semantic feature, the matting feature and the encoder skip, and at the three finest
levels an SBFI block mixes in max-pooled stem features. The fusion takes the local alpha where the
argmax of the logits is "transition", 1 where it is "foreground".

Parameter names equal the official ones: the encoder stages alias the backbone's modules, so the
state dict holds every encoder tensor twice (``resnet.*`` and ``encoder0..4.*``), plus the unused
classifier ``resnet.fc`` and the training-only DBFI side heads (``dbfi_k.conv2``), 713 keys in all
as in the released file. The official Upsample layers leave ``align_corners`` unset (False).

Like the official network (and AimNet), the max-unpooling is not bit-reproducible across thread
counts: the 3x3 / stride-2 pooling windows overlap, one position is often the maximum of two to
four windows, and PyTorch keeps whichever of their unpooled values it writes last.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import MODELS, InputError, load_state_dict, load_strict
from matbench_aim.models.resnet_mp import ResNet34MP

#: ImageNet statistics of the official ``transforms.Normalize`` (RGB in [0, 1] before it)
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def conv3x3(cin: int, cout: int) -> nn.Conv2d:
    """The fusion blocks' 3x3 convolution (no bias)."""
    return nn.Conv2d(cin, cout, 3, padding=1, bias=False)


def conv1x1(cin: int, cout: int) -> nn.Conv2d:
    """The fusion blocks' channel projection (no bias)."""
    return nn.Conv2d(cin, cout, 1, bias=False)


def upsample(factor: int) -> nn.Upsample:
    return nn.Upsample(scale_factor=factor, mode="bilinear", align_corners=False)


def decoder_stage(*channels: int, bn_last: bool = True, upsample_by: int = 0) -> nn.Sequential:
    """3x3 conv (with bias) + BN + ReLU for each consecutive channel pair; ``bn_last=False`` leaves
    the last conv bare (the semantic head); optionally a bilinear upsampling at the end."""
    layers: list[nn.Module] = []
    pairs = list(zip(channels[:-1], channels[1:]))
    for i, (cin, cout) in enumerate(pairs):
        layers.append(nn.Conv2d(cin, cout, 3, padding=1))
        if bn_last or i < len(pairs) - 1:
            layers += [nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if upsample_by:
        layers.append(upsample(upsample_by))
    return nn.Sequential(*layers)


class TFI(nn.Module):
    """Tripartite-feature integration: ONE 1x1 projection (shared weights) halves the channels of
    the semantic feature, the matting feature and the encoder skip; their concatenation goes
    through conv3x3-BN-ReLU back to ``planes`` channels."""

    def __init__(self, planes: int) -> None:
        super().__init__()
        self.transform = conv1x1(planes, planes // 2)
        self.conv1 = conv3x3(planes // 2 * 3, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, semantic: torch.Tensor, matting: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = torch.cat((self.transform(semantic), self.transform(matting), self.transform(skip)), 1)
        return self.relu(self.bn1(self.conv1(x)))


class SBFI(nn.Module):
    """Shallow bipartite-feature integration: the stem features (64 channels, full size) sampled by
    a 2x2 max-pool every ``stride`` pixels (kernel smaller than the stride, as the official code
    has it), projected, concatenated with the projected matting feature, conv3x3-BN-ReLU, plus
    the matting feature (residual)."""

    def __init__(self, planes: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.transform1 = conv1x1(planes, planes // 2)
        self.transform2 = conv1x1(64, planes // 2)
        self.maxpool = nn.MaxPool2d(2, stride=stride)
        self.conv1 = conv3x3(planes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, matting: torch.Tensor, stem: torch.Tensor) -> torch.Tensor:
        x = torch.cat((self.transform1(matting), self.transform2(self.maxpool(stem))), 1)
        return self.relu(self.bn1(self.conv1(x))) + matting


class DBFI(nn.Module):
    """Deep bipartite-feature integration: the deepest encoder features (512 channels, 1/32),
    projected and upsampled by ``stride`` to the semantic feature's size, concatenated with the
    projected semantic feature, conv3x3-BN-ReLU, plus the semantic feature (residual). ``conv2`` +
    ``upsample2`` make the training-only side output (3 logits at full size)."""

    def __init__(self, planes: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.transform1 = conv1x1(planes, planes // 2)
        self.transform2 = conv1x1(512, planes // 2)
        self.upsample = upsample(stride)
        self.conv1 = conv3x3(planes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, 3)
        self.upsample2 = upsample(32 // stride)

    def forward(self, semantic: torch.Tensor, deepest: torch.Tensor) -> torch.Tensor:
        x = torch.cat((self.transform1(semantic), self.upsample(self.transform2(deepest))), 1)
        return self.relu(self.bn1(self.conv1(x))) + semantic

    def side_output(self, fused: torch.Tensor) -> torch.Tensor:
        """The deep-supervision logits of this block's output (training only)."""
        return self.upsample2(self.conv2(fused))


def fuse(global_logits: torch.Tensor, local_alpha: torch.Tensor) -> torch.Tensor:
    """The network's fusion: the local alpha where the argmax of the logits is 1 (transition), 1
    where it is 2 (foreground), 0 where it is 0 (background); ties go to the lower class."""
    cls = global_logits.argmax(1, keepdim=True)
    return local_alpha * (cls == 1) + (cls == 2).to(local_alpha.dtype)


@MODELS.register_module()
class P3MNet(nn.Module):
    """P3M-Net (Li, Ma, Zhang & Tao, ACM MM 2021), privacy-preserving portrait matting.

    A ResNet-34-mp encoder, a semantic and a matting decoder joined by TFI, SBFI and DBFI blocks.

    ``forward(x)`` takes ImageNet-normalised RGB whose sides are multiples of 32 and returns
    ``(global, local, fusion)`` at the input's size: the three raw logits (bg / transition / fg;
    no softmax, as the official ``global_sigmoid``), the local alpha and the fused alpha.
    ``forward(x, side_outputs=True)`` appends the three DBFI side logits, as the official forward
    returns them for training."""

    output_names = ("global", "local", "fusion")
    size_divisor = 32
    #: the official core/test.py RESIZE (1/2): the setting of the paper's numbers
    default_strategy = "p3m-resize"
    #: core/test.py save_test_result: (predict * 255).astype(np.uint8)
    save_rule = "truncate"
    references = {"p3m-readme": "P3M-Net"}
    weights = ("the official P3M-Net weights, p3mnet_pretrained_on_p3m10k.pth, are linked from the P3M README "
               "(github.com/JizhiziLi/P3M, 'Inference Code' step 3: Google Drive or Baidu Wangpan, "
               "pw 2308); pass the file with --checkpoint")

    def __init__(self) -> None:
        super().__init__()
        ResNet34MP().attach_as_encoder(self)       # resnet.*, and encoder0..4 / mp0..4 (official names)
        # the fusion blocks
        self.tfi_3, self.tfi_2, self.tfi_1, self.tfi_0 = TFI(256), TFI(128), TFI(64), TFI(64)
        self.sbfi_2, self.sbfi_1, self.sbfi_0 = SBFI(128, 8), SBFI(64, 4), SBFI(64, 2)
        self.dbfi_2, self.dbfi_1, self.dbfi_0 = DBFI(128, 4), DBFI(64, 8), DBFI(64, 16)
        # the semantic (global) decoder
        self.decoder4_g = decoder_stage(512, 512, 512, 256, upsample_by=2)
        self.decoder3_g = decoder_stage(256, 256, 256, 128, upsample_by=2)
        self.decoder2_g = decoder_stage(128, 128, 128, 64, upsample_by=2)
        self.decoder1_g = decoder_stage(64, 64, 64, 64, upsample_by=2)
        self.decoder0_g = decoder_stage(64, 64, 64, 3, bn_last=False, upsample_by=2)
        # the matting (local) decoder
        self.decoder4_l = decoder_stage(512, 512, 512, 256)
        self.decoder3_l = decoder_stage(256, 256, 256, 128)
        self.decoder2_l = decoder_stage(128, 128, 128, 64)
        self.decoder1_l = decoder_stage(64, 64, 64, 64)
        self.decoder0_l = decoder_stage(64, 64, 64)
        self.decoder_final_l = nn.Conv2d(64, 1, 3, padding=1)

    @staticmethod
    def normalize(image: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] (N x 3 x H x W) -> the network's input."""
        mean = image.new_tensor(MEAN)[:, None, None]
        std = image.new_tensor(STD)[:, None, None]
        return (image - mean) / std

    def fill_random_weights(self) -> None:
        """``--random-weights``: the deterministic, conditioned weights of the parity tests (an
        alpha that spans (0, 1), where plain seeded weights saturate)."""
        from .conditioning import conditioned_state

        self.load_state_dict(conditioned_state())

    def forward(self, x: torch.Tensor, side_outputs: bool = False) -> tuple[torch.Tensor, ...]:
        (e0, e0p, e1, e2, e3, e4), (id0, id1, id2, id3, id4) = self.resnet.encode(x)

        d4_g = self.decoder4_g(e4)
        d3_g = self.decoder3_g(d4_g)
        f2_g = self.dbfi_2(d3_g, e4)
        d2_g = self.decoder2_g(f2_g)
        f1_g = self.dbfi_1(d2_g, e4)
        d1_g = self.decoder1_g(f1_g)
        f0_g = self.dbfi_0(d1_g, e4)
        global_logits = self.decoder0_g(f0_g)

        d4_l = F.max_unpool2d(self.decoder4_l(e4), id4, 2, 2)
        d3_l = self.decoder3_l(self.tfi_3(d4_g, d4_l, e3))
        d3_l = F.max_unpool2d(d3_l, id3, 2, 2)
        d2_l = self.decoder2_l(self.sbfi_2(self.tfi_2(d3_g, d3_l, e2), e0))
        d2_l = F.max_unpool2d(d2_l, id2, 2, 2)
        d1_l = self.decoder1_l(self.sbfi_1(self.tfi_1(d2_g, d2_l, e1), e0))
        d1_l = F.max_unpool2d(d1_l, id1, 2, 2)
        d0_l = self.decoder0_l(self.sbfi_0(self.tfi_0(d1_g, d1_l, e0p), e0))
        d0_l = F.max_unpool2d(d0_l, id0, 2, 2)
        local_alpha = torch.sigmoid(self.decoder_final_l(d0_l))

        outputs = (global_logits, local_alpha, fuse(global_logits, local_alpha))
        if side_outputs:
            outputs += tuple(block.side_output(f) for block, f in
                             ((self.dbfi_2, f2_g), (self.dbfi_1, f1_g), (self.dbfi_0, f0_g)))
        return outputs

    def load_checkpoint(self, path: str) -> None:
        """Strict, safe loading (``load_strict``); an AimNet checkpoint (same encoder, other
        decoders) is named as such."""
        try:
            load_strict(self, path)
        except InputError:
            if "psp_module.bottleneck.weight" in load_state_dict(path):
                raise InputError(path, "an AimNet checkpoint (its psp_module keys), not P3M-Net's: "
                                       "pass --model AimNet") from None
            raise
