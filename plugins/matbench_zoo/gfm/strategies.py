"""GFM's official test procedure (``core/test.py`` ``inference_img_gfm``), as two strategies.

* ``gfm-hybrid`` (the official default, ``test_choice=HYBRID``): the glance decision from a pass
  at 1/3, the focus alpha from a pass at 1/2, both resized to full size and fused there: TT keeps
  the glance where its resized map is exactly 0 or 255 and takes the focus alpha elsewhere; BT
  subtracts the focus alpha from the glance map, FT adds it (clamped to [0, 1]).
* ``gfm-resize`` (``test_choice=RESIZE``): one pass at 1/2, the network's own fused alpha
  resized to full size.

A RIM network runs the official RIM branch under either name: one pass at 1/3, its outputs
resized. Pass sizes are ``int(side * ratio)`` (RIM: ``int(side / 3)``) floored to a multiple of 32
and capped at 1600 per side; there is no padding. All resizing is scikit-image 0.17.2's
(``resize.py``). The input is the photo's 0..255 values as float32, not normalised.

``pred_choice`` picks the output as the official ``--pred_choice`` does: 1 the glance map,
2 the focus alpha, 3 the fused alpha (default); for RIM 1..3 the merged TT / FT / BT alphas and
4 the RIM output (default). The alpha is returned so that matbench's truncating 8-bit save
(``save_rule = "truncate"``) gives the official file's bytes: where the official script scales a
float32 map by 255 in float32, or saves the 0..255 glance map directly, the alpha is the float64
value whose ``floor(alpha * 255)`` is that truncation. The RIM output is not squashed by the
network; the official script would wrap values outside [0, 1] around in uint8, here they are
clipped.
"""
from __future__ import annotations

import torch
from torch import nn

from matbench.api import STRATEGIES, BaseStrategy, MatbenchError, check_finite, check_size, output_names

from .network import ROSTAS
from .resize import resize

#: the official MAX_SIZE_H / MAX_SIZE_W (core/config.py)
MAX_SIZE = 1600


def pass_size(h: int, w: int, scale: float | None = None, divide: int | None = None,
              max_size: int = MAX_SIZE) -> tuple[int, int]:
    """A pass's model-input size: ``int(side * scale)`` (or ``int(side / divide)``, RIM's form),
    floored to a multiple of 32, at most ``max_size`` per side."""
    def side(n: int) -> int:
        s = int(n * scale) if divide is None else int(n / divide)
        return min(max_size, s - s % 32)
    return side(h), side(w)


def forward(network: nn.Module, photo: torch.Tensor, size: tuple[int, int], what: str) -> dict[str, torch.Tensor]:
    """The network's outputs (float32, by name) for the uint8 3 x H x W ``photo`` resized to
    ``size``: ``float32(resize(photo) * 255.0)`` as the official code feeds it."""
    check_size(size, photo[None], what)
    x = (resize(photo, size) * 255.0).float()[None]
    if next(network.parameters()).is_contiguous(memory_format=torch.channels_last):
        x = x.contiguous(memory_format=torch.channels_last)
    outputs = {name: out.float() for name, out in zip(output_names(network), network(x))}
    check_finite(outputs, type(network).__name__)
    return outputs


def glance_map(glance: torch.Tensor, rosta: str) -> torch.Tensor:
    """The glance classes as the official 8-bit map (1 x h x w uint8): argmax over the sigmoid
    scores, the first class on ties; TT -> 0 / 128 / 255, FT and BT -> 0 / 255."""
    levels = (0, 128, 255) if rosta == "TT" else (0, 255)
    table = torch.tensor(levels, dtype=torch.uint8, device=glance.device)
    return table[glance[0].argmax(0)][None]


def for_truncation(scaled: torch.Tensor) -> torch.Tensor:
    """An alpha whose ``floor(alpha * 255)`` (in float64) equals ``floor(scaled)``: the bytes the
    official script writes by truncating ``scaled`` (its 0..255 values) survive matbench's save."""
    target = scaled.floor()
    alpha = (scaled / 255).clamp(0, 1)
    for _ in range(3):
        got = (alpha * 255).floor()
        alpha = torch.where(got < target, torch.nextafter(alpha, torch.ones_like(alpha)), alpha)
        alpha = torch.where(got > target, torch.nextafter(alpha, torch.zeros_like(alpha)), alpha)
    return alpha


def scaled_as_saved(map32: torch.Tensor) -> torch.Tensor:
    """A float32 map as the official save scales it: ``map * 255`` in float32, as float64."""
    return (map32 * 255).double()


def glance_trimap(glance_full: torch.Tensor) -> torch.Tensor:
    """Where the TT fusion kept the glance decision: 255 / 0 where the resized glance map is
    exactly 255 / 0, 128 elsewhere (uint8 H x W)."""
    trimap = torch.full(glance_full.shape[1:], 128, dtype=torch.uint8, device=glance_full.device)
    return trimap.masked_fill_(glance_full[0] == 255, 255).masked_fill_(glance_full[0] == 0, 0)


class _GFMTest(BaseStrategy):
    """What both test choices share: the choice of output, the RIM branch, checks."""

    def __init__(self, pred_choice: int | None = None, max_size: int = MAX_SIZE) -> None:
        if pred_choice is not None and pred_choice not in (1, 2, 3, 4):
            raise MatbenchError(f"{type(self).__name__}: pred_choice={pred_choice!r}: expected 1 (glance), "
                                "2 (focus), 3 (fused) or, for RIM, 4 (RIM output)")
        self.pred_choice, self.max_size = pred_choice, max_size

    def check_model(self, network: nn.Module) -> None:
        rosta = getattr(network, "rosta", None)
        if rosta not in ROSTAS:
            raise MatbenchError(f"strategy '{type(self).__name__}' runs GFM networks only; "
                                f"'{type(network).__name__}' is none")
        if self.pred_choice == 4 and rosta != "RIM":
            raise MatbenchError(f"{type(self).__name__}: pred_choice=4 (the RIM output) needs a RIM network; "
                                f"this one's rosta is {rosta}")

    @staticmethod
    def photo(image: torch.Tensor) -> torch.Tensor:
        """The 8-bit photo (3 x H x W uint8) of matbench's 1 x 3 x H x W input in [0, 1]."""
        return (image[0] * 255).round().to(torch.uint8)

    def run_rim(self, network: nn.Module, photo: torch.Tensor) -> dict[str, torch.Tensor]:
        """The official RIM branch: one pass at 1/3, the chosen output resized to full size."""
        h, w = photo.shape[1:]
        outputs = forward(network, photo, pass_size(h, w, divide=3, max_size=self.max_size), "RIM pass at 1/3")
        name = ("fusion_tt", "fusion_ft", "fusion_bt", "fusion")[(self.pred_choice or 4) - 1]
        return {"alpha": for_truncation(scaled_as_saved(resize(outputs[name][0], (h, w)))[0])}

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        photo = self.photo(image)
        if network.rosta == "RIM":
            return self.run_rim(network, photo)
        return self.run_two_decoders(network, photo, network.rosta)

    def run_two_decoders(self, network: nn.Module, photo: torch.Tensor, rosta: str) -> dict[str, torch.Tensor]:
        raise NotImplementedError


@STRATEGIES.register_module(name="gfm-hybrid")
class GFMHybrid(_GFMTest):
    """GFM's official test: glance at 1/3, focus at 1/2, fused at full size (RIM: one pass at 1/3)."""

    label_params = ("global_ratio", "local_ratio")

    def __init__(self, pred_choice: int | None = None, global_ratio: float = 1 / 3, local_ratio: float = 1 / 2,
                 max_size: int = MAX_SIZE) -> None:
        super().__init__(pred_choice, max_size)
        self.global_ratio, self.local_ratio = global_ratio, local_ratio

    def run_two_decoders(self, network: nn.Module, photo: torch.Tensor, rosta: str) -> dict[str, torch.Tensor]:
        h, w = photo.shape[1:]
        size = pass_size(h, w, self.global_ratio, max_size=self.max_size)
        glance = forward(network, photo, size, f"glance pass at {self.global_ratio:.4g}")["glance"]
        glance_full = resize(glance_map(glance, rosta), (h, w)) * 255.0
        choice = self.pred_choice or 3
        if choice == 1:
            return {"alpha": for_truncation(glance_full[0])}
        size = pass_size(h, w, self.local_ratio, max_size=self.max_size)
        focus = forward(network, photo, size, f"focus pass at {self.local_ratio:.4g}")["focus"]
        focus_full = resize(focus[0], (h, w))
        if choice == 2:
            return {"alpha": for_truncation(scaled_as_saved(focus_full)[0])}
        focus_full = focus_full.double()
        if rosta == "TT":
            weight = torch.ones_like(glance_full)
            weight[(glance_full == 255) | (glance_full == 0)] = 0
            alpha = glance_full * (1.0 - weight) / 255 + focus_full * weight
            return {"alpha": alpha[0], "trimap": glance_trimap(glance_full)}
        if rosta == "BT":
            alpha = (glance_full / 255.0 - focus_full).clamp(min=0)
        else:
            alpha = (glance_full / 255.0 + focus_full).clamp(max=1)
        return {"alpha": alpha[0]}


@STRATEGIES.register_module(name="gfm-resize")
class GFMResize(_GFMTest):
    """GFM's official RESIZE test: one pass at 1/2, the fused alpha resized back (RIM: its 1/3 pass)."""

    label_params = ("ratio",)

    def __init__(self, pred_choice: int | None = None, ratio: float = 1 / 2, max_size: int = MAX_SIZE) -> None:
        super().__init__(pred_choice, max_size)
        self.ratio = ratio

    def run_two_decoders(self, network: nn.Module, photo: torch.Tensor, rosta: str) -> dict[str, torch.Tensor]:
        h, w = photo.shape[1:]
        outputs = forward(network, photo, pass_size(h, w, self.ratio, max_size=self.max_size),
                          f"resize pass at {self.ratio:.4g}")
        choice = self.pred_choice or 3
        if choice == 1:
            glance_full = resize(glance_map(outputs["glance"], rosta), (h, w)) * 255.0
            result = {"alpha": for_truncation(glance_full[0])}
            if rosta == "TT":
                result["trimap"] = glance_trimap(glance_full)
            return result
        name = "focus" if choice == 2 else "fusion"
        return {"alpha": for_truncation(scaled_as_saved(resize(outputs[name][0], (h, w)))[0])}
