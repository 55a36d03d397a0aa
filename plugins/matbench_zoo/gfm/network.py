"""GFM, the Glance and Focus Matting network (Li, Zhang, Maybank, Tao, "Bridging Composite and
Real: Towards End-to-end Deep Image Matting", IJCV 2022), module for module its official
``core/gfm.py``.

A shared encoder feeds two decoders: *glance* classifies every pixel into a RoSTa's classes
(TT: background / transition / foreground; FT: background / foreground-or-transition; BT:
background-or-transition / foreground) and *focus* predicts the alpha of the transition area;
*collaborative matting* merges them. RIM runs all three RoSTas and mixes their merged alphas with
a 1x1-conv / squeeze-excitation module.

The encoders are aliases of a whole torchvision classifier registered as ``resnet`` /
``densenet``, so, like the official checkpoints, the state dict holds every backbone tensor twice
and also the classifier parts no forward uses (``resnet.fc``; for r34_2b also ``resnet.conv1``,
``resnet.bn1`` and the unused ``psp1``; for d121 ``densenet.features.norm5`` and
``densenet.classifier``): the released files load with ``strict=True``.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from matbench.api import MODELS, InputError, MatbenchError, load_state_dict, load_strict, unwrap_state

from matbench_aim.models.aimnet import PSPModule, SELayer

from .backbones import BasicBlock, densenet121, resnet34, resnet101

BACKBONES = ("r34_2b", "r34", "r101", "d121")
ROSTAS = ("TT", "FT", "BT", "RIM")


def conv_up(in_channels: int, out_channels: int, scale: int) -> nn.Sequential:
    """A pyramid side branch: 3x3 conv-BN-ReLU, then bilinear upsampling by ``scale``."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.BatchNorm2d(out_channels),
                         nn.ReLU(inplace=True), nn.Upsample(scale_factor=scale, mode="bilinear", align_corners=False))


def bridge(channels: int) -> nn.Sequential:
    """The focus decoder's entry: three dilated (2) 3x3 conv-BN-ReLU layers."""
    layers: list[nn.Module] = []
    for _ in range(3):
        layers += [nn.Conv2d(channels, channels, 3, dilation=2, padding=2), nn.BatchNorm2d(channels),
                   nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


def decoder(in_channels: int, mid1: int, mid2: int, out_channels: int, last_bn_relu: bool = True,
            upsample: bool = True) -> nn.Sequential:
    """Three 3x3 convs (BN-ReLU after the first two, optionally after the last), optionally a
    bilinear x2 upsampling."""
    layers: list[nn.Module] = [nn.Conv2d(in_channels, mid1, 3, padding=1), nn.BatchNorm2d(mid1), nn.ReLU(inplace=True),
                               nn.Conv2d(mid1, mid2, 3, padding=1), nn.BatchNorm2d(mid2), nn.ReLU(inplace=True),
                               nn.Conv2d(mid2, out_channels, 3, padding=1)]
    if last_bn_relu:
        layers += [nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]
    if upsample:
        layers.append(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
    return nn.Sequential(*layers)


def collaborative_matting(rosta: str, glance: torch.Tensor, focus: torch.Tensor) -> torch.Tensor:
    """The merged alpha of a RoSTa from the glance scores (classes by argmax, first index on ties)
    and the focus alpha: TT takes the focus in the transition class and 1 in the foreground; BT
    subtracts it from the glance class, FT adds it, clamped to [0, 1]."""
    index = glance.argmax(1, keepdim=True).to(focus.dtype)
    if rosta == "TT":
        return focus * (index == 1).to(focus.dtype) + (index == 2).to(focus.dtype)
    if rosta == "BT":
        return (index - focus).clamp(min=0)
    return (index + focus).clamp(max=1)


@MODELS.register_module()
class GFM(nn.Module):
    """GFM (Li, Zhang, Maybank & Tao, IJCV 2022), glance and focus decoders on a shared encoder:
    backbones r34_2b / r34 / r101 / d121, RoSTas TT / FT / BT / RIM.

    ``forward(x)`` takes RGB in 0..255 (no normalisation), sides multiples of 32, and returns
    ``(glance, focus, fusion)``: the glance sigmoid scores (3 channels for TT, 2 for FT / BT),
    the focus alpha and the collaborative-matting alpha; RIM returns the merged alphas of TT, FT
    and BT and the RIM output (not squashed into [0, 1]).
    """

    output_names = ("glance", "focus", "fusion")
    size_divisor = 32
    #: the official core/test.py procedure: glance at 1/3, focus at 1/2, fused at full size
    default_strategy = "gfm-hybrid"
    #: (alpha * 255).astype(np.uint8) in core/util.py save_test_result
    save_rule = "truncate"
    weights = ("the seven official GFM checkpoints are linked from the GFM README (github.com/JizhiziLi/GFM, "
               "'GFM' table: Google Drive and Baidu Wangpan); gfm_r34_2b_tt.pth is the default variant, "
               "others need --model-option backbone=... rosta=...; pass the file with --checkpoint")

    def __init__(self, backbone: str = "r34_2b", rosta: str = "TT") -> None:
        super().__init__()
        if backbone not in BACKBONES:
            raise MatbenchError(f"GFM: unknown backbone '{backbone}' (known: {', '.join(BACKBONES)})")
        if rosta not in ROSTAS:
            raise MatbenchError(f"GFM: unknown rosta '{rosta}' (known: {', '.join(ROSTAS)})")
        self.backbone, self.rosta = backbone, rosta
        if rosta == "RIM":
            self.output_names = ("fusion_tt", "fusion_ft", "fusion_bt", "fusion")
        getattr(self, f"_build_{backbone}")()
        self._build_heads()
        if rosta == "RIM":
            self.rim = nn.Sequential(nn.Conv2d(3, 16, 1), SELayer(16, reduction=4), nn.Conv2d(16, 1, 1))

    # ----------------------------------------------------------------- encoders and decoders

    def _build_r34_2b(self) -> None:
        """ResNet-34's four stages at strides 1, 1, 2, 4, 8 behind a new stride-1 stem, two
        more stages of three basic blocks (/16, /32), and decoders from /32."""
        self.resnet = r = resnet34()
        self.encoder0 = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        self.encoder1, self.encoder2, self.encoder3, self.encoder4 = r.layer1, r.layer2, r.layer3, r.layer4
        for name in ("encoder5", "encoder6"):
            setattr(self, name, nn.Sequential(nn.MaxPool2d(2, 2, ceil_mode=True),
                                              *(BasicBlock(512, 512) for _ in range(3))))
        self.psp_module = PSPModule(512, 512, (1, 3, 5), align_corners=True)
        for name, channels, scale in (("psp6", 512, 2), ("psp5", 512, 4), ("psp4", 256, 8), ("psp3", 128, 16),
                                      ("psp2", 64, 32), ("psp1", 64, 32)):   # psp1: built, never used
            setattr(self, name, conv_up(512, channels, scale))
        self.decoder6_g = decoder(1024, 512, 512, 512)
        self.decoder5_g = decoder(1024, 512, 512, 512)
        self.decoder4_g = decoder(1024, 512, 512, 256)
        self.decoder3_g = decoder(512, 256, 256, 128)
        self.decoder2_g = decoder(256, 128, 128, 64)
        self.decoder1_g = decoder(128, 64, 64, 64, upsample=False)
        self.bridge_block = bridge(512)
        self.decoder6_f = decoder(1024, 512, 512, 512)
        self.decoder5_f = decoder(1024, 512, 512, 512)
        self.decoder4_f = decoder(1024, 512, 512, 256)
        self.decoder3_f = decoder(512, 256, 256, 128)
        self.decoder2_f = decoder(256, 128, 128, 64)
        self.decoder1_f = decoder(128, 64, 64, 64, upsample=False)

    def _resnet_encoders(self, resnet: nn.Module) -> None:
        self.resnet = resnet
        self.encoder0 = nn.Sequential(resnet.conv1, resnet.bn1, resnet.relu)
        self.encoder1 = nn.Sequential(resnet.maxpool, resnet.layer1)
        self.encoder2, self.encoder3, self.encoder4 = resnet.layer2, resnet.layer3, resnet.layer4

    def _build_r34(self) -> None:
        self._resnet_encoders(resnet34())
        self._build_512_decoders(focus_in=(1024, 512, 256, 128))

    def _build_512_decoders(self, focus_in: tuple[int, int, int, int]) -> None:
        """The pyramid pooling, glance decoders and focus decoders on 512-channel /32 features
        (r34 and d121; ``focus_in``: the focus decoders' input channels, which the skip features
        of the backbone set)."""
        self.psp_module = PSPModule(512, 512, (1, 3, 5), align_corners=True)
        for name, channels, scale in (("psp4", 256, 2), ("psp3", 128, 4), ("psp2", 64, 8), ("psp1", 64, 16)):
            setattr(self, name, conv_up(512, channels, scale))
        self.decoder4_g = decoder(1024, 512, 512, 256)
        self.decoder3_g = decoder(512, 256, 256, 128)
        self.decoder2_g = decoder(256, 128, 128, 64)
        self.decoder1_g = decoder(128, 64, 64, 64)
        self.bridge_block = bridge(512)
        self.decoder4_f = decoder(focus_in[0], 512, 512, 256)
        self.decoder3_f = decoder(focus_in[1], 256, 256, 128)
        self.decoder2_f = decoder(focus_in[2], 128, 128, 64)
        self.decoder1_f = decoder(focus_in[3], 64, 64, 64)

    def _build_r101(self) -> None:
        self._resnet_encoders(resnet101())
        self.psp_module = PSPModule(2048, 2048, (1, 3, 5), align_corners=True)
        self.bridge_block = bridge(2048)
        for name, channels, scale in (("psp4", 1024, 2), ("psp3", 512, 4), ("psp2", 256, 8), ("psp1", 64, 16)):
            setattr(self, name, conv_up(2048, channels, scale))
        self.decoder4_g = decoder(4096, 2048, 1024, 1024)
        self.decoder3_g = decoder(2048, 1024, 512, 512)
        self.decoder2_g = decoder(1024, 512, 256, 256)
        self.decoder1_g = decoder(512, 256, 128, 64)
        self.decoder4_f = decoder(4096, 2048, 1024, 1024)
        self.decoder3_f = decoder(2048, 1024, 512, 512)
        self.decoder2_f = decoder(1024, 512, 256, 256)
        self.decoder1_f = decoder(512, 256, 128, 64)

    def _build_d121(self) -> None:
        """DenseNet-121's features without its first max-pool: stem /2, each dense block with
        its transition (/4, /8, /16), the last block reduced to 512 channels and max-pooled (/32)."""
        self.densenet = d = densenet121()
        f = d.features
        self.encoder0 = nn.Sequential(f.conv0, f.norm0, f.relu0)
        self.encoder1 = nn.Sequential(f.denseblock1, f.transition1)
        self.encoder2 = nn.Sequential(f.denseblock2, f.transition2)
        self.encoder3 = nn.Sequential(f.denseblock3, f.transition3)
        self.encoder4 = nn.Sequential(f.denseblock4, nn.Conv2d(1024, 512, 3, padding=1), nn.BatchNorm2d(512),
                                      nn.ReLU(inplace=True), nn.MaxPool2d(2, 2, ceil_mode=True))
        self._build_512_decoders(focus_in=(1024, 768, 384, 192))

    def _build_heads(self) -> None:
        """The last glance / focus layers, one pair per RoSTa (three for RIM): a single 3x3 conv
        at full resolution for r34_2b, else a decoder on the /2 features with the skip, x2."""
        glance_channels = {"tt": 3, "ft": 2, "bt": 2}
        suffixes = ("_tt", "_ft", "_bt") if self.rosta == "RIM" else ("",)
        for branch in ("g", "f"):
            for suffix in suffixes:
                out = glance_channels[suffix[1:] or self.rosta.lower()] if branch == "g" else 1
                head = (nn.Sequential(nn.Conv2d(64, out, 3, padding=1)) if self.backbone == "r34_2b"
                        else decoder(128, 64, 64, out, last_bn_relu=False))
                setattr(self, f"decoder0_{branch}{suffix}", head)

    # ----------------------------------------------------------------- forward

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] (matbench's generic strategies) -> the 0..255 values the network takes."""
        return x * 255

    def fill_random_weights(self) -> None:
        """``--random-weights``: the deterministic, conditioned weights of the parity tests (an
        alpha that spans (0, 1), where plain seeded weights saturate)."""
        from .conditioning import conditioned_state

        self.load_state_dict(conditioned_state(backbone=self.backbone, rosta=self.rosta))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        e0 = self.encoder0(x)
        e1 = self.encoder1(e0)
        e2 = self.encoder2(e1)
        e3 = self.encoder3(e2)
        e4 = self.encoder4(e3)
        if self.backbone == "r34_2b":
            e5 = self.encoder5(e4)
            e6 = self.encoder6(e5)
            psp = self.psp_module(e6)
            d6_g = self.decoder6_g(torch.cat((psp, e6), 1))
            d5_g = self.decoder5_g(torch.cat((self.psp6(psp), d6_g), 1))
            d4_g = self.decoder4_g(torch.cat((self.psp5(psp), d5_g), 1))
        else:
            psp = self.psp_module(e4)
            d4_g = self.decoder4_g(torch.cat((psp, e4), 1))
        d3_g = self.decoder3_g(torch.cat((self.psp4(psp), d4_g), 1))
        d2_g = self.decoder2_g(torch.cat((self.psp3(psp), d3_g), 1))
        d1_g = self.decoder1_g(torch.cat((self.psp2(psp), d2_g), 1))

        if self.backbone == "r34_2b":
            bb = self.bridge_block(e6)
            d6_f = self.decoder6_f(torch.cat((bb, e6), 1))
            d5_f = self.decoder5_f(torch.cat((d6_f, e5), 1))
            d4_f = self.decoder4_f(torch.cat((d5_f, e4), 1))
        else:
            bb = self.bridge_block(e4)
            d4_f = self.decoder4_f(torch.cat((bb, e4), 1))
        d3_f = self.decoder3_f(torch.cat((d4_f, e3), 1))
        d2_f = self.decoder2_f(torch.cat((d3_f, e2), 1))
        d1_f = self.decoder1_f(torch.cat((d2_f, e1), 1))

        if self.backbone == "r34_2b":
            glance_in, focus_in = d1_g, d1_f
        else:
            glance_in, focus_in = torch.cat((self.psp1(psp), d1_g), 1), torch.cat((d1_f, e0), 1)
        if self.rosta != "RIM":
            glance = torch.sigmoid(self.decoder0_g(glance_in))
            focus = torch.sigmoid(self.decoder0_f(focus_in))
            return glance, focus, collaborative_matting(self.rosta, glance, focus)
        fused = [collaborative_matting(rosta, torch.sigmoid(getattr(self, f"decoder0_g_{rosta.lower()}")(glance_in)),
                                       torch.sigmoid(getattr(self, f"decoder0_f_{rosta.lower()}")(focus_in)))
                 for rosta in ("TT", "FT", "BT")]
        return (*fused, self.rim(torch.cat(fused, 1)))

    # ----------------------------------------------------------------- checkpoints

    def load_checkpoint(self, path: str | Path) -> None:
        """Load an official checkpoint strictly; one whose keys belong to another variant is named
        as such (the files record their variant nowhere but in their keys)."""
        found = variant_of(load_state_dict(path))
        if found is None or found == (self.backbone, self.rosta):
            return load_strict(self, path)
        backbone, rosta = found
        if backbone == self.backbone and {rosta, self.rosta} <= {"FT", "BT"}:
            return load_strict(self, path)     # FT and BT files have the same keys and shapes
        if rosta in ("FT", "BT"):
            raise InputError(path, f"the keys of a GFM {backbone}/FT or {backbone}/BT checkpoint (the two are "
                                   f"indistinguishable by shape; the file name says which), not of "
                                   f"{self.backbone}/{self.rosta}: pass --model-option backbone={backbone} "
                                   f"--model-option rosta=FT (or rosta=BT)")
        raise InputError(path, f"the keys of a GFM {backbone}/{rosta} checkpoint, not of {self.backbone}/{self.rosta}: "
                               f"pass --model-option backbone={backbone} --model-option rosta={rosta}")


def variant_of(state: dict[str, torch.Tensor]) -> tuple[str, str] | None:
    """(backbone, rosta) that a GFM state dict's keys belong to, None if it is no GFM checkpoint;
    FT and BT look the same (reported as FT)."""
    state = unwrap_state(state, {"encoder0.0.weight": None})
    if not any(k.startswith("encoder0.") for k in state):
        return None
    if any(k.startswith(("encoder5.", "encoder6.")) for k in state):
        backbone = "r34_2b"
    elif any(k.startswith("densenet.") for k in state):
        backbone = "d121"
    elif "resnet.layer1.0.conv3.weight" in state:
        backbone = "r101"
    else:
        backbone = "r34"
    if any(k.startswith(("rim.", "decoder0_g_tt.")) for k in state):
        return backbone, "RIM"
    head = state.get("decoder0_g.0.weight" if backbone == "r34_2b" else "decoder0_g.6.weight")
    if head is None:
        return None
    return backbone, "TT" if head.shape[0] == 3 else "FT"
