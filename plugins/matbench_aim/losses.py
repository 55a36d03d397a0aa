"""AIM training losses (Li et al., IJCAI 2021): the official ``core/evaluate.py`` training
losses, summed per stage as ``core/train.py`` does, as pure functions and as ``MODELS`` modules.

Input units (kept by every function and module here):

* ``pred_global``: N x 3 x H x W, the network's *sigmoid* outputs (bg / transition / fg). The
  official code hands them to ``nn.CrossEntropyLoss`` as if they were logits, so the softmax
  runs on values in (0, 1); reproduced as is.
* ``pred`` (local or fusion): N x 1 x H x W in [0, 1].
* ``alpha``: N x 1 x H x W float in [0, 1]. The official losses take the mask in 0..255 and
  divide by 255 inside; the division happens at our boundary instead, so
  ``alpha = mask_0_255 / 255.`` (same dtype) gives bit-identical alpha terms.
* ``trimap`` / ``usr``: N x 1 x H x W float with values 0 / 128 / 255. The transition region is
  ``trimap == 128`` exactly. Other values (the official loader resizes trimaps bilinearly, so it
  feeds some) get the official cross-entropy classes: 255 -> 2, values > 2 -> 1, anything else
  truncated to an integer (so 1.x -> 1, but 2 -> 2 (fg) and 0.x -> 0).
* ``image``, ``fg``, ``bg``: N x 3 x H x W, ImageNet-normalised as the official loader gives
  them (``(x / 255 - mean) / std``); the composite is formed in that normalised space.

Where the official formulas differ from a plain reading of SPEC 1.4 (reproduced, not fixed):

* transition alpha loss: ``sum(sqrt((w * diff)^2 + 1e-12)) / (sum(w) + 1)`` -- the sum runs
  over *all* pixels (each pixel outside the region adds ``sqrt(1e-12) = 1e-6``) and the
  denominator is the region's size plus one, so it is finite with no transition pixel;
* composition loss: summed over the 3 channels but divided by N*H*W (not 3*N*H*W);
* Laplacian loss: the 5 x 5 kernel is not a Gaussian with sigma 1 but, from the gist the
  official code cites, ``k[i, j] ∝ g(i) + g(j)`` with ``g(d) = exp(-(d - 2)^2 / 2)^2 =
  exp(-(d - 2)^2)`` (a sum, not a product; the exponential squared); each of the 6 levels (5
  band-pass + the last low-pass) is an L1 mean over its pixels, and the transition variant
  multiplies both maps by the region mask first (it is not normalised by the region size).
  Five poolings by 2 need H, W >= 32.

Stage totals (``stage_losses``) return ``{"global", "local", "fusion_alpha"[, "fusion_comp"],
"loss"}``: the parts are named as the official log line names them and only the total carries
"loss" in its key, so mmengine's ``BaseModel.parse_losses`` (which sums every key containing
"loss") back-propagates the total once and logs every part.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from matbench.api import MODELS

__all__ = [
    "STAGES", "EPS", "trimap_classes", "global_ce_loss", "alpha_loss", "alpha_loss_whole",
    "laplacian_kernel", "laplacian_pyramid", "laplacian_loss", "laplacian_loss_whole",
    "composition_loss", "stage_losses",
    "AimGlobalCELoss", "AimAlphaLoss", "AimLaplacianLoss", "AimCompositionLoss", "AimStageLoss",
]

#: ``'sod'``: stage 1 (DUTS-TR, trimap target); ``'matting'``: stage 2 (composites, USR target).
STAGES = ("sod", "matting")
#: Added under the square root of the Charbonnier-style alpha and composition losses.
EPS = 1e-12
_PYRAMID_LEVELS = 5
_REGIONS = ("transition", "whole")


def _check_same_shape(what: str, a: Tensor, b: Tensor) -> None:
    # broadcasting N x H x W against N x 1 x H x W would silently give an N x N x H x W loss
    if a.shape != b.shape:
        raise ValueError(f"{what}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")


def _transition_weight(trimap: Tensor, like: Tensor) -> Tensor:
    return (trimap == 128).to(device=like.device, dtype=like.dtype)


def trimap_classes(trimap: Tensor) -> Tensor:
    """The N x H x W class map (0 bg, 1 transition, 2 fg) of an N x 1 x H x W trimap, as the
    official cross-entropy builds it (255 -> 2, > 2 -> 1, the rest truncated to an integer)."""
    t = trimap.detach()
    cls = torch.where(t == 255, torch.full_like(t, 2), t)
    cls = torch.where(cls > 2, torch.ones_like(cls), cls)
    return cls.long()[:, 0]


def global_ce_loss(pred_global: Tensor, trimap: Tensor) -> Tensor:
    """Cross-entropy of the N x 3 x H x W global sigmoid outputs (taken as logits, as the official
    code does) against the trimap / USR classes, averaged over pixels."""
    if pred_global.dim() != 4 or pred_global.shape[1] != 3:
        raise ValueError(f"global prediction must be N x 3 x H x W, got {tuple(pred_global.shape)}")
    if trimap.dim() != 4 or trimap.shape[1] != 1 or trimap.shape[2:] != pred_global.shape[2:] \
            or trimap.shape[0] != pred_global.shape[0]:
        raise ValueError(f"trimap must be N x 1 x H x W matching {tuple(pred_global.shape)}, "
                         f"got {tuple(trimap.shape)}")
    return F.cross_entropy(pred_global, trimap_classes(trimap).to(pred_global.device))


def alpha_loss(pred: Tensor, alpha: Tensor, trimap: Tensor) -> Tensor:
    """``sum(sqrt((w * (pred - alpha))^2 + 1e-12)) / (sum(w) + 1)`` with ``w = [trimap == 128]``."""
    _check_same_shape("alpha loss (pred, alpha)", pred, alpha)
    _check_same_shape("alpha loss (pred, trimap)", pred, trimap)
    weight = _transition_weight(trimap, pred)
    diff = (pred - alpha) * weight
    return torch.sqrt(diff ** 2 + EPS).sum() / (weight.sum() + 1.0)


def alpha_loss_whole(pred: Tensor, alpha: Tensor) -> Tensor:
    """``mean(sqrt((pred - alpha)^2 + 1e-12))`` over the whole image."""
    _check_same_shape("alpha loss (pred, alpha)", pred, alpha)
    return torch.sqrt((pred - alpha) ** 2 + EPS).sum() / pred.numel()


def laplacian_kernel(channels: int = 1, device: Optional[torch.device] = None,
                     dtype: torch.dtype = torch.float32) -> Tensor:
    """The official 5 x 5 pyramid kernel, ``channels x 1 x 5 x 5`` (see the module docstring:
    ``k[i, j] ∝ exp(-(i-2)^2) + exp(-(j-2)^2)``, normalised to sum 1). Built in float64 and
    rounded once; the official float32 construction differs in the last bit of some weights, so
    Laplacian losses agree with it to ~3e-7 relative (the other losses bit for bit)."""
    d = torch.arange(5, dtype=torch.float64) - 2
    g = torch.exp(-(d ** 2) / 2.0) ** 2
    kernel = g[None, :] + g[:, None]
    kernel = kernel / kernel.sum()
    return kernel.to(device=device, dtype=dtype).expand(channels, 1, 5, 5).contiguous()


def laplacian_pyramid(img: Tensor, kernel: Tensor, levels: int = _PYRAMID_LEVELS) -> list[Tensor]:
    """``levels`` band-pass images (``x - blur(x)``, replicate border) and the last low-pass;
    each level is the previous blur average-pooled by 2 (floor on odd sizes)."""
    pad = kernel.shape[-1] // 2
    current = img
    pyramid = []
    for _ in range(levels):
        blurred = F.conv2d(F.pad(current, (pad, pad, pad, pad), mode="replicate"), kernel,
                           groups=kernel.shape[0])
        pyramid.append(current - blurred)
        current = F.avg_pool2d(blurred, 2)
    pyramid.append(current)
    return pyramid


def _pyramid_l1(pred: Tensor, alpha: Tensor) -> Tensor:
    min_side = 2 ** _PYRAMID_LEVELS
    if pred.dim() != 4 or min(pred.shape[-2:]) < min_side:
        raise ValueError(f"Laplacian loss needs N x C x H x W with H, W >= {min_side} "
                         f"({_PYRAMID_LEVELS} poolings by 2), got {tuple(pred.shape)}")
    kernel = laplacian_kernel(pred.shape[1], device=pred.device, dtype=pred.dtype)
    pyr_alpha = laplacian_pyramid(alpha, kernel)
    pyr_pred = laplacian_pyramid(pred, kernel)
    return sum(F.l1_loss(a, p) for a, p in zip(pyr_alpha, pyr_pred))


def laplacian_loss(pred: Tensor, alpha: Tensor, trimap: Tensor) -> Tensor:
    """Laplacian-pyramid L1 loss between ``pred * w`` and ``alpha * w``, ``w = [trimap == 128]``."""
    _check_same_shape("Laplacian loss (pred, alpha)", pred, alpha)
    _check_same_shape("Laplacian loss (pred, trimap)", pred, trimap)
    weight = _transition_weight(trimap, pred)
    return _pyramid_l1(pred * weight, alpha * weight)


def laplacian_loss_whole(pred: Tensor, alpha: Tensor) -> Tensor:
    """Laplacian-pyramid L1 loss between ``pred`` and ``alpha`` over the whole image."""
    _check_same_shape("Laplacian loss (pred, alpha)", pred, alpha)
    return _pyramid_l1(pred, alpha)


def composition_loss(pred: Tensor, image: Tensor, fg: Tensor, bg: Tensor) -> Tensor:
    """``sum(sqrt((pred*fg + (1-pred)*bg - image)^2 + 1e-12)) / (N*H*W)``, the 3 channels summed;
    ``image``, ``fg``, ``bg`` ImageNet-normalised N x 3 x H x W, ``pred`` N x 1 x H x W."""
    if pred.dim() != 4 or pred.shape[1] != 1:
        raise ValueError(f"composition loss: pred must be N x 1 x H x W, got {tuple(pred.shape)}")
    want = (pred.shape[0], 3, *pred.shape[2:])
    for name, t in (("image", image), ("fg", fg), ("bg", bg)):
        if tuple(t.shape) != want:
            raise ValueError(f"composition loss: {name} must be {want}, got {tuple(t.shape)}")
    pred3 = torch.cat((pred, pred, pred), 1)  # as the official code: same summation order
    comp = pred3 * fg + (1.0 - pred3) * bg
    return torch.sqrt((comp - image) ** 2 + EPS).sum() / pred.numel()


def stage_losses(stage: str, pred_global: Tensor, pred_local: Tensor, pred_fusion: Tensor,
                 alpha: Tensor, trimap: Tensor, image: Optional[Tensor] = None,
                 fg: Optional[Tensor] = None, bg: Optional[Tensor] = None) -> dict[str, Tensor]:
    """The official total of one training stage and its parts.

    ``'sod'``: global = CE(global, trimap), local = alpha loss(local, transition),
    fusion_alpha = whole-image alpha loss(fusion). ``'matting'`` (``trimap`` is then the USR):
    local and fusion_alpha each add the matching Laplacian loss, and fusion_comp = composition
    loss(fusion) needs ``image``, ``fg``, ``bg``. ``loss`` is their sum in the official order."""
    if stage not in STAGES:
        raise ValueError(f"unknown AIM training stage {stage!r} (expected one of {', '.join(STAGES)})")
    out = {"global": global_ce_loss(pred_global, trimap)}
    if stage == "sod":
        out["local"] = alpha_loss(pred_local, alpha, trimap)
        out["fusion_alpha"] = alpha_loss_whole(pred_fusion, alpha)
        out["loss"] = out["global"] + out["local"] + out["fusion_alpha"]
        return out
    if image is None or fg is None or bg is None:
        raise ValueError("the 'matting' stage needs image, fg and bg for the composition loss")
    out["local"] = alpha_loss(pred_local, alpha, trimap) + laplacian_loss(pred_local, alpha, trimap)
    out["fusion_alpha"] = alpha_loss_whole(pred_fusion, alpha) + laplacian_loss_whole(pred_fusion, alpha)
    out["fusion_comp"] = composition_loss(pred_fusion, image, fg, bg)
    out["loss"] = out["global"] + out["local"] + out["fusion_alpha"] + out["fusion_comp"]
    return out


class _RegionLoss(nn.Module):
    """A loss on the transition region (``trimap == 128``) or on the whole image, by ``region``:
    ``forward(pred, alpha, trimap=None)`` calls ``transition(pred, alpha, trimap)`` or
    ``whole(pred, alpha)``."""

    #: a training piece, not a network to evaluate (``matbench list training``)
    evaluable = False

    transition: Callable[[Tensor, Tensor, Tensor], Tensor]
    whole: Callable[[Tensor, Tensor], Tensor]

    def __init__(self, region: str = "transition") -> None:
        super().__init__()
        if region not in _REGIONS:
            raise ValueError(f"unknown region {region!r} (expected one of {', '.join(_REGIONS)})")
        self.region = region

    def forward(self, pred: Tensor, alpha: Tensor, trimap: Optional[Tensor] = None) -> Tensor:
        if self.region == "whole":
            return self.whole(pred, alpha)
        if trimap is None:
            raise ValueError(f"{type(self).__name__}(region='transition') needs a trimap")
        return self.transition(pred, alpha, trimap)

    def extra_repr(self) -> str:
        return f"region={self.region!r}"


@MODELS.register_module()
class AimGlobalCELoss(nn.Module):
    """:func:`global_ce_loss` as a module: ``forward(pred_global, trimap)``."""

    evaluable = False

    def forward(self, pred_global: Tensor, trimap: Tensor) -> Tensor:
        return global_ce_loss(pred_global, trimap)


@MODELS.register_module()
class AimAlphaLoss(_RegionLoss):
    """:func:`alpha_loss` (``region='transition'``, needs ``trimap``) or :func:`alpha_loss_whole`
    (``region='whole'``): ``forward(pred, alpha, trimap=None)``."""

    transition = staticmethod(alpha_loss)
    whole = staticmethod(alpha_loss_whole)


@MODELS.register_module()
class AimLaplacianLoss(_RegionLoss):
    """:func:`laplacian_loss` (``region='transition'``, needs ``trimap``) or
    :func:`laplacian_loss_whole` (``region='whole'``): ``forward(pred, alpha, trimap=None)``."""

    transition = staticmethod(laplacian_loss)
    whole = staticmethod(laplacian_loss_whole)


@MODELS.register_module()
class AimCompositionLoss(nn.Module):
    """:func:`composition_loss` as a module: ``forward(pred, image, fg, bg)``."""

    evaluable = False

    def forward(self, pred: Tensor, image: Tensor, fg: Tensor, bg: Tensor) -> Tensor:
        return composition_loss(pred, image, fg, bg)


@MODELS.register_module()
class AimStageLoss(nn.Module):
    """:func:`stage_losses` for one stage (``'sod'`` or ``'matting'``): ``forward(pred_global,
    pred_local, pred_fusion, alpha, trimap, image=None, fg=None, bg=None)`` returns
    ``{"global", "local", "fusion_alpha"[, "fusion_comp"], "loss"}``."""

    evaluable = False

    def __init__(self, stage: str = "matting") -> None:
        super().__init__()
        if stage not in STAGES:
            raise ValueError(f"unknown AIM training stage {stage!r} (expected one of {', '.join(STAGES)})")
        self.stage = stage

    def forward(self, pred_global: Tensor, pred_local: Tensor, pred_fusion: Tensor, alpha: Tensor,
                trimap: Tensor, image: Optional[Tensor] = None, fg: Optional[Tensor] = None,
                bg: Optional[Tensor] = None) -> dict[str, Tensor]:
        return stage_losses(self.stage, pred_global, pred_local, pred_fusion, alpha, trimap,
                            image=image, fg=fg, bg=bg)

    def extra_repr(self) -> str:
        return f"stage={self.stage!r}"
