"""GCA Matting (Li & Lu, "Natural Image Matting via Guided Contextual Attention", AAAI 2020),
module for module the released architecture of github.com/Yaoyi-Li/GCA-Matting: encoder
``resnet_gca_encoder_29`` and decoder ``res_gca_decoder_22``, trimap as three one-hot channels.

* Encoder: a ResNet-D stem (three 3x3 convs, /2 then /4), residual stages of 3, 4, 4, 2 basic
  blocks (64, 128, 256, 512 channels; the downsampling shortcut is an average pool and a 1x1
  conv), a guidance head on the RGB channels (three reflect-padded stride-2 convs to 128
  channels at 1/8), guided contextual attention after the second stage, and five skip
  branches (two convs each) from the input and the first four scales.
* Decoder: stages of 2, 3, 3, 2 basic blocks that upsample with 4x4 transposed convs (the
  shortcut: nearest x2 and a 1x1 conv), each added to its skip branch; a second attention
  block after the second stage; a transposed conv to full size, a 3x3 conv to one channel and
  ``alpha = (tanh + 1) / 2``.
* Every convolution except the attention blocks' and the last one is wrapped in GCA's own
  spectral normalisation (:mod:`.spectral_norm`), so the state dict holds the official 578
  keys: the released checkpoints load with ``strict=True``.

Order of operations as in the official code: backbone conv -> BN -> ReLU, but skip branches and
the guidance head conv -> ReLU -> BN; LeakyReLU(0.2) throughout the decoder.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import MODELS, InputError, load_state_dict, load_strict

from .attention import GuidedContextualAttention
from .spectral_norm import SpectralNorm

#: ImageNet statistics of the official input normalisation (float32, subtracted then divided)
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def trimap_classes(trimap: torch.Tensor) -> torch.Tensor:
    """N x 1 x H x W trimap in [0, 1] -> int64 classes as the official data loader thresholds the
    8-bit values: below 85 background (0), from 170 foreground (2), unknown (1) between."""
    levels = torch.round(trimap * 255)
    classes = torch.ones_like(levels, dtype=torch.int64)
    classes[levels < 85] = 0
    classes[levels >= 170] = 2
    return classes


def sn_conv(cin: int, cout: int, kernel: int, stride: int = 1, padding: int | None = None) -> SpectralNorm:
    """A spectrally normalised bias-free convolution ("same" padding unless given)."""
    padding = kernel // 2 if padding is None else padding
    return SpectralNorm(nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False))


def sn_deconv(channels: int) -> SpectralNorm:
    """A spectrally normalised bias-free 4x4 stride-2 transposed convolution (x2 upsampling)."""
    return SpectralNorm(nn.ConvTranspose2d(channels, channels, 4, stride=2, padding=1, bias=False))


class EncoderBlock(nn.Module):
    """Residual basic block of the encoder (conv-BN-ReLU, conv-BN, add, ReLU)."""

    def __init__(self, cin: int, cout: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = sn_conv(cin, cout, 3, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.activation = nn.ReLU(inplace=True)
        self.conv2 = sn_conv(cout, cout, 3)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.activation(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.activation(out + identity)


class DecoderBlock(nn.Module):
    """Residual basic block of the decoder: the first conv a x2 transposed conv when it upsamples."""

    def __init__(self, cin: int, cout: int, stride: int = 1, upsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = sn_deconv(cin) if stride > 1 else sn_conv(cin, cin, 3)
        self.bn1 = nn.BatchNorm2d(cin)
        self.activation = nn.LeakyReLU(0.2, inplace=True)
        self.conv2 = sn_conv(cin, cout, 3)
        self.bn2 = nn.BatchNorm2d(cout)
        self.upsample = upsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.activation(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = self.upsample(x) if self.upsample is not None else x
        return self.activation(out + identity)


def skip_branch(cin: int, cout: int) -> nn.Sequential:
    """Two 3x3 convs, each followed by ReLU then BN (indices as the official Sequential)."""
    return nn.Sequential(sn_conv(cin, cout, 3), nn.ReLU(inplace=True), nn.BatchNorm2d(cout),
                         sn_conv(cout, cout, 3), nn.ReLU(inplace=True), nn.BatchNorm2d(cout))


def guidance_head() -> nn.Sequential:
    """RGB -> 128 channels at 1/8: three times reflect pad, stride-2 3x3 conv, ReLU, BN."""
    layers: list[nn.Module] = []
    for cin, cout in ((3, 16), (16, 32), (32, 128)):
        layers += [nn.ReflectionPad2d(1), sn_conv(cin, cout, 3, stride=2, padding=0), nn.ReLU(inplace=True),
                   nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers)


class GCAEncoder(nn.Module):
    """The official ``ResGuidedCxtAtten`` encoder (layers 3, 4, 4, 2). ``forward(x)`` takes the
    6-channel input (normalised RGB, one-hot trimap) and returns the 1/32 embedding and what
    the decoder needs: the five skip features, the guidance features and the 1/8 unknown mask."""

    def __init__(self, layers: tuple[int, ...] = (3, 4, 4, 2)) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = sn_conv(6, 32, 3, stride=2)
        self.conv2 = sn_conv(32, 32, 3)
        self.conv3 = sn_conv(32, 64, 3, stride=2)
        self.bn1, self.bn2, self.bn3 = nn.BatchNorm2d(32), nn.BatchNorm2d(32), nn.BatchNorm2d(64)
        self.activation = nn.ReLU(inplace=True)
        self.layer1 = self._stage(64, layers[0], stride=1)
        self.layer2 = self._stage(128, layers[1], stride=2)
        self.layer3 = self._stage(256, layers[2], stride=2)
        self.layer_bottleneck = self._stage(512, layers[3], stride=2)
        self.shortcut = nn.ModuleList(skip_branch(cin, cout) for cin, cout in
                                      ((6, 32), (32, 32), (64, 64), (128, 128), (256, 256)))
        self.guidance_head = guidance_head()
        self.gca = GuidedContextualAttention(128, 128)

    def _stage(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1:
            downsample = nn.Sequential(nn.AvgPool2d(2, stride), sn_conv(self.inplanes, planes, 1),
                                       nn.BatchNorm2d(planes))
        elif self.inplanes != planes:
            downsample = nn.Sequential(sn_conv(self.inplanes, planes, 1), nn.BatchNorm2d(planes))
        stage = [EncoderBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        stage += [EncoderBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*stage)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        out = self.activation(self.bn1(self.conv1(x)))
        x1 = self.activation(self.bn2(self.conv2(out)))               # 1/2, 32 channels
        out = self.activation(self.bn3(self.conv3(x1)))               # 1/4, 64
        guidance = self.guidance_head(x[:, :3])                      # 1/8, 128
        unknown = F.interpolate(x[:, 4:5], scale_factor=1 / 8, mode="nearest")
        x2 = self.layer1(out)                                        # 1/4, 64
        x3 = self.gca(guidance, self.layer2(x2), unknown)            # 1/8, 128
        x4 = self.layer3(x3)                                         # 1/16, 256
        out = self.layer_bottleneck(x4)                              # 1/32, 512
        skips = [branch(f) for branch, f in zip(self.shortcut, (x, x1, x2, x3, x4))]
        return out, {"shortcut": skips, "guidance": guidance, "unknown": unknown}


class GCADecoder(nn.Module):
    """The official ``ResGuidedCxtAtten_Dec`` decoder (layers 2, 3, 3, 2) -> alpha in [0, 1]."""

    def __init__(self, layers: tuple[int, ...] = (2, 3, 3, 2)) -> None:
        super().__init__()
        self.inplanes = 512
        self.layer1 = self._stage(256, layers[0])
        self.layer2 = self._stage(128, layers[1])
        self.layer3 = self._stage(64, layers[2])
        self.layer4 = self._stage(32, layers[3])
        self.conv1 = sn_deconv(32)
        self.bn1 = nn.BatchNorm2d(32)
        self.leaky_relu = nn.LeakyReLU(0.2, inplace=True)
        self.conv2 = nn.Conv2d(32, 1, kernel_size=3, padding=1)
        self.gca = GuidedContextualAttention(128, 128)

    def _stage(self, planes: int, blocks: int) -> nn.Sequential:
        upsample = nn.Sequential(nn.UpsamplingNearest2d(scale_factor=2), sn_conv(self.inplanes, planes, 1),
                                 nn.BatchNorm2d(planes))
        stage = [DecoderBlock(self.inplanes, planes, 2, upsample)]
        self.inplanes = planes
        stage += [DecoderBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*stage)

    def forward(self, x: torch.Tensor, features: dict) -> torch.Tensor:
        fea1, fea2, fea3, fea4, fea5 = features["shortcut"]
        x = self.layer1(x) + fea5                                    # 1/16
        x = self.layer2(x) + fea4                                    # 1/8
        x = self.gca(features["guidance"], x, features["unknown"])
        x = self.layer3(x) + fea3                                    # 1/4
        x = self.layer4(x) + fea2                                    # 1/2
        x = self.leaky_relu(self.bn1(self.conv1(x))) + fea1          # full size
        return (torch.tanh(self.conv2(x)) + 1.0) / 2.0


@MODELS.register_module()
class GCA(nn.Module):
    """GCA Matting (Li & Lu, AAAI 2020), a ResNet encoder-decoder with guided contextual attention.

    ``forward(x, trimap)``: ImageNet-normalised RGB (``normalize``) and the trimap in [0, 1]
    (N x 1 x H x W, H and W multiples of 32); the trimap becomes three one-hot channels by the
    official thresholds (:func:`trimap_classes`). Returns the alpha, N x 1 x H x W in [0, 1],
    before the known regions are forced (the strategies do that, as the official scripts do).
    """

    inputs = ("image", "trimap")
    output_names = ("alpha",)
    #: the encoder downsamples five times
    size_divisor = 32
    #: main.py --phase=test, the procedure of the Composition-1k numbers (Table 2)
    default_strategy = "gca-test"
    #: tester.py and demo.py save ``(alpha * 255).astype(np.uint8)``
    save_rule = "truncate"
    references = {"gca-readme": "GCA Matting (gca-dist)"}
    weights = ("gca-dist.pth (Composition-1k, the paper's Table 2) or gca-dist-all-data.pth, linked from the "
               "'Models' section of github.com/Yaoyi-Li/GCA-Matting (non-commercial: Adobe dataset licence); "
               "pass the file with --checkpoint")

    def __init__(self) -> None:
        super().__init__()
        self.encoder = GCAEncoder()
        self.decoder = GCADecoder()

    @staticmethod
    def normalize(x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] (N x 3 x H x W) -> the network's input: the mean subtracted, then divided
        by the std, in ``x``'s precision (float32, as the official ``ToTensor``)."""
        return (x - x.new_tensor(MEAN).view(1, 3, 1, 1)) / x.new_tensor(STD).view(1, 3, 1, 1)

    def fill_random_weights(self) -> None:
        """``--random-weights``: the deterministic, conditioned weights of the parity tests (an
        alpha that spans (0, 1), where plain seeded weights give NaN: GCA's spectral norms need converged vectors)."""
        from .conditioning import conditioned_state

        self.load_state_dict(conditioned_state())

    def forward(self, x: torch.Tensor, trimap: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(trimap_classes(trimap)[:, 0], num_classes=3).permute(0, 3, 1, 2).to(x.dtype)
        embedding, features = self.encoder(torch.cat((x, onehot), dim=1))
        return self.decoder(embedding, features)

    def load_checkpoint(self, path: str) -> None:
        """Load a checkpoint strictly (the released ``{'state_dict': ...}`` files with their
        ``module.`` prefixes); a mismatch caused by an unported official variant says so."""
        try:
            load_strict(self, path)
        except InputError as exc:
            variant = unported_variant(load_state_dict(path))
            if variant is None:
                raise
            raise InputError(path, f"keys of {variant}, which has no released weights and is not ported "
                                   "(the released models use the attention encoder and decoder, 3 trimap "
                                   "channels)") from exc


def unported_variant(state: dict[str, torch.Tensor]) -> str | None:
    """Which other official architecture a state dict looks like, if any."""
    state = {k.removeprefix("module."): v for k, v in state.items()}
    first = state.get("encoder.conv1.module.weight_bar")
    if first is None:
        return None
    if not any(k.startswith("encoder.gca.") for k in state):
        return "GCA's baseline (res_shortcut_encoder_29 / res_shortcut_decoder_22, no contextual attention)"
    if first.dim() == 4 and first.shape[1] == 4:
        return "GCA with trimap_channel = 1 (the trimap as one class-index channel)"
    return None
