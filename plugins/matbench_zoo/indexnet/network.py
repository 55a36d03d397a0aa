"""IndexNet Matting (Lu, Dai, Shen, Xu, "Indices Matter: Learning to Index for Deep Image Matting",
ICCV 2019), the configuration of the released ``indexnet_matting.pth.tar``.

A MobileNetV2 encoder on RGB + trimap whose every stride is 1: the five downsamplings are done by
learned index blocks instead (a map is weighted by its encoder index map, then 2 x 2 sum-pooled);
an ASPP context module; a U-Net decoder that upsamples by nearest neighbour and multiplies by the
matching decoder index map before each skip concatenation; a two-convolution head whose output is
left unbounded (the test procedure clips it after resizing).

Module names and nesting equal the official ``scripts/hlmobilenetv2.py``
(``hlMobileNetV2UNetDecoderIndexLearning``), ``hlindex.py`` (``DepthwiseM2OIndexBlock``),
``hlaspp.py`` and ``hldecoder.py`` (``IndexedUpsamlping``), so the released checkpoint's 549 keys
load strictly. Only the released configuration is built: output stride 32, ASPP, standard 5 x 5
decoder convolutions, depthwise many-to-one ("m2o") index blocks with the nonlinear 4 x 4
context variant; the code's other decoders and index blocks have no published weights.
"""
from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import MODELS, InputError, load_state_dict, load_strict, unwrap_state

#: ImageNet statistics of the RGB channels; the trimap channel is trimap / 255, unnormalised
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

#: (expansion, output channels, blocks) of the seven MobileNetV2 stages, all at stride 1
STAGES = ((1, 16, 1), (6, 24, 2), (6, 32, 3), (6, 64, 4), (6, 96, 3), (6, 160, 3), (6, 320, 1))


def conv_bn_relu6(cin: int, cout: int, kernel: int) -> nn.Sequential:
    """Same-size convolution (no bias), BatchNorm, ReLU6."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    """MobileNetV2 block at stride 1: 1 x 1 expansion (absent when ``expand`` is 1), 3 x 3
    depthwise, linear 1 x 1 projection; the input is added back when the widths match.

    The block's input is zero-padded by one pixel before the expansion, and the depthwise
    convolution has no padding of its own: its border neighbours are the expansion of zeros
    (ReLU6 of the BatchNorm shift), not zeros."""

    def __init__(self, cin: int, cout: int, expand: int) -> None:
        super().__init__()
        hidden = round(cin * expand)
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [nn.Conv2d(hidden, hidden, 3, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
                   nn.ReLU6(inplace=True), nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.residual = cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(F.pad(x, (1, 1, 1, 1)))
        return x + out if self.residual else out


def stage(cin: int, cout: int, blocks: int, expand: int) -> nn.Sequential:
    return nn.Sequential(*(InvertedResidual(cin if i == 0 else cout, cout, expand) for i in range(blocks)))


class IndexBlock(nn.Module):
    """Depthwise many-to-one index block: four branches (one per position in a 2 x 2 cell), each a
    4 x 4 stride-2 convolution over all channels, BatchNorm, ReLU6 and a 1 x 1 convolution.

    Returns the encoder and decoder index maps at the input's size: per channel and cell, the
    sigmoid of the four branch outputs (decoder) and their softmax across the branches (encoder);
    branch k fills position (k // 2, k % 2) of its cell."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        for k in range(1, 5):
            self.add_module(f"indexnet{k}", nn.Sequential(
                nn.Conv2d(channels, channels, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(channels),
                nn.ReLU6(inplace=True), nn.Conv2d(channels, channels, 1, bias=False)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, c, h, w = x.shape
        branches = torch.stack([self.indexnet1(x), self.indexnet2(x), self.indexnet3(x), self.indexnet4(x)], dim=2)
        decoder = torch.sigmoid(branches)                       # n x c x 4 x h/2 x w/2
        encoder = torch.softmax(decoder, dim=2)
        cells = (n, c * 4, h // 2, w // 2)
        return F.pixel_shuffle(encoder.reshape(cells), 2), F.pixel_shuffle(decoder.reshape(cells), 2)


def index_pool(x: torch.Tensor, index: IndexBlock) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The index-guided downsampling: ``x`` weighted by its encoder index map (kept for the skip
    connection), its 2 x 2 sums (the pooled map), and the decoder index map."""
    encoder, decoder = index(x)
    weighted = encoder * x
    return weighted, 4 * F.avg_pool2d(weighted, 2, stride=2), decoder


class AtrousBranch(nn.Module):
    """One ASPP branch: a 1 x 1 convolution, or (``dilation`` > 1) a dilated depthwise 3 x 3 then a
    1 x 1 convolution, each followed by BatchNorm and ReLU6."""

    def __init__(self, cin: int, cout: int, dilation: int) -> None:
        super().__init__()
        if dilation == 1:
            self.atrous_conv = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout),
                                             nn.ReLU6(inplace=True))
        else:
            self.atrous_conv = nn.Sequential(
                nn.Conv2d(cin, cin, 3, padding=dilation, dilation=dilation, groups=cin, bias=False),
                nn.BatchNorm2d(cin), nn.ReLU6(inplace=True),
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.atrous_conv(x)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling at output stride 32: branches of dilation 1, 2, 4, 8 and a
    global average, 256 channels each, fused by a 1 x 1 convolution (dropout: identity at test)."""

    def __init__(self, cin: int = 320, cout: int = 160, width: int = 256, dilations=(1, 2, 4, 8)) -> None:
        super().__init__()
        self.aspp1, self.aspp2, self.aspp3, self.aspp4 = (AtrousBranch(cin, width, d) for d in dilations)
        self.global_avg_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, width, 1, bias=False),
                                             nn.BatchNorm2d(width), nn.ReLU6(inplace=True))
        self.bottleneck_conv = nn.Sequential(nn.Conv2d(width * 5, cout, 1, bias=False), nn.BatchNorm2d(cout),
                                             nn.ReLU6(inplace=True))
        self.dropout = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.global_avg_pool(x).expand(-1, -1, *x.shape[2:])   # nearest upsampling of a 1 x 1 map
        fused = torch.cat((self.aspp1(x), self.aspp2(x), self.aspp3(x), self.aspp4(x), pooled), dim=1)
        return self.dropout(self.bottleneck_conv(fused))


class IndexedUpsampling(nn.Module):
    """Decoder stage: the coarse map upsampled by nearest neighbour to the skip's size and
    multiplied by the decoder index map (when the encoder downsampled there), concatenated with
    the skip, then a 5 x 5 convolution, BatchNorm and ReLU6."""

    def __init__(self, cin: int, cout: int, kernel: int = 5) -> None:
        super().__init__()
        self.dconv = conv_bn_relu6(cin, cout, kernel)

    def forward(self, x: torch.Tensor, skip: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        if index is not None:
            x = index * F.interpolate(x, size=skip.shape[2:], mode="nearest")
        return self.dconv(torch.cat((x, skip), dim=1))


@MODELS.register_module()
class IndexNet(nn.Module):
    """IndexNet Matting (Lu et al., ICCV 2019), MobileNetV2 with learned index pooling.

    The released Composition-1k model: a MobileNetV2 encoder on RGB + trimap, learned index
    pooling, ASPP, and a U-Net decoder that unpools with the learned indices.

    ``forward(x, trimap)``: ``x`` ImageNet-normalised RGB (``normalize``), ``trimap`` its trimap /
    255 (0, 128/255, 1), both N x . x H x W with H and W multiples of 32; returns the N x 1 x H x W
    raw alpha, not yet clipped to [0, 1]. The ``indexnet-test`` strategy runs it as the official
    test script does.
    """

    output_names = ("alpha",)
    inputs = ("image", "trimap")
    size_divisor = 32
    default_strategy = "indexnet-test"
    save_rule = "truncate"
    references = {"indexnet-readme": "IndexNet Matting"}
    weights = ("pretrained/indexnet_matting.pth.tar in github.com/poppinace/indexnet_matting (README "
               "'A Quick Demo': included in ./pretrained; non-commercial use only, Adobe Image Dataset licence)")

    def __init__(self) -> None:
        super().__init__()
        self.layer0 = conv_bn_relu6(4, 32, 3)
        cin = 32
        for i, (expand, cout, blocks) in enumerate(STAGES, start=1):
            self.add_module(f"layer{i}", stage(cin, cout, blocks, expand))
            cin = cout
        self.index0, self.index2, self.index3, self.index4, self.index6 = map(IndexBlock, (32, 24, 32, 64, 160))
        self.dconv_pp = ASPP(320, 160)
        self.decoder_layer6 = IndexedUpsampling(160 * 2, 96)
        self.decoder_layer5 = IndexedUpsampling(96 * 2, 64)
        self.decoder_layer4 = IndexedUpsampling(64 * 2, 32)
        self.decoder_layer3 = IndexedUpsampling(32 * 2, 24)
        self.decoder_layer2 = IndexedUpsampling(24 * 2, 16)
        self.decoder_layer1 = IndexedUpsampling(16 * 2, 32)
        self.decoder_layer0 = IndexedUpsampling(32 * 2, 32)
        self.pred = nn.Sequential(conv_bn_relu6(32, 1, 5), nn.Conv2d(1, 1, 5, padding=2, bias=False))
        self.register_buffer("mean", torch.tensor(MEAN, dtype=torch.float64).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD, dtype=torch.float64).view(1, 3, 1, 1), persistent=False)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> ImageNet-normalised, computed in float64 as the official NumPy code
        does, returned in ``x``'s dtype."""
        return ((x.double() - self.mean) / self.std).to(x.dtype)

    def fill_random_weights(self) -> None:
        """``--random-weights``: the deterministic, conditioned weights of the parity tests (an
        alpha that spans (0, 1), where plain seeded weights saturate)."""
        from .conditioning import conditioned_state

        self.load_state_dict(conditioned_state())

    def forward(self, x: torch.Tensor, trimap: torch.Tensor) -> torch.Tensor:
        x = torch.cat((x, trimap.to(x.dtype)), dim=1)
        l0, l0p, idx0 = index_pool(self.layer0(x), self.index0)
        l1 = self.layer1(l0p)
        l2, l2p, idx2 = index_pool(self.layer2(l1), self.index2)
        l3, l3p, idx3 = index_pool(self.layer3(l2p), self.index3)
        l4, l4p, idx4 = index_pool(self.layer4(l3p), self.index4)
        l5 = self.layer5(l4p)
        l6, l6p, idx6 = index_pool(self.layer6(l5), self.index6)
        out = self.dconv_pp(self.layer7(l6p))
        out = self.decoder_layer6(out, l6, idx6)
        out = self.decoder_layer5(out, l5)
        out = self.decoder_layer4(out, l4, idx4)
        out = self.decoder_layer3(out, l3, idx3)
        out = self.decoder_layer2(out, l2, idx2)
        out = self.decoder_layer1(out, l1)
        out = self.decoder_layer0(out, l0, idx0)
        return self.pred(out)

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """The released file as distributed (legacy serialisation, ``{'state_dict': ...}`` with
        ``module.`` keys, the training script's NumPy scores beside the weights), loaded strictly
        and without running code. A checkpoint of another configuration of the official code is
        named as such."""
        try:
            load_strict(self, path)
        except InputError as exc:
            try:
                state = unwrap_state(load_state_dict(path), self.state_dict())
            except InputError:
                raise exc from None
            other = other_configuration(state)
            if not other:
                raise
            raise InputError(path, f"checkpoint of an IndexNet configuration without released weights "
                                   f"({', '.join(other)}); this IndexNet is the released one (depthwise "
                                   "m2o index blocks with context, ASPP, output stride 32)") from None


def other_configuration(state: dict[str, torch.Tensor]) -> list[str]:
    """The settings of ``hlmobilenetv2(...)`` that a checkpoint of the official code visibly used
    instead of the released ones (empty when it is not an IndexNet checkpoint of another
    configuration)."""
    if "layer0.0.weight" not in state or not any(k.startswith("index0.") for k in state):
        return []
    found = []
    first = state.get("index0.indexnet1.0.weight")
    if "index0.indexnet.0.weight" in state:
        found.append("indexnet='holistic'")
    elif first is not None and first.dim() == 4 and first.shape[1] == 1:
        found.append("index_mode='o2o'")
    if first is not None and first.dim() == 4 and first.shape[-1] == 2:
        found.append("use_context=False")
    if first is not None and "index0.indexnet1.1.weight" not in state:
        found.append("use_nonlinear=False")
    if "dconv_pp.0.weight" in state:
        found.append("apply_aspp=False")
    if not any(k.startswith("index6.") for k in state):
        found.append("output_stride=16")
    decoder = state.get("decoder_layer6.dconv.0.weight")
    if decoder is not None and decoder.dim() == 4 and decoder.shape[1] == 1:
        found.append("conv_operator='dep_sep_conv'")
    return found
