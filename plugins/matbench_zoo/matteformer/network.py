"""The MatteFormer network (its ``networks/generators.py``, ``Generator_MatteFormer``): the
prior-token encoder and the shortcut decoder, on RGB plus the one-hot trimap."""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import MODELS, InputError, MatbenchError, load_strict

from .decoder import ResShortcutDecoder
from .encoder import MatteFormerEncoder, relative_position_index

#: ImageNet statistics (the official inference.py normalises with them)
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def trimap_classes(trimap: torch.Tensor) -> torch.Tensor:
    """The official classes of a trimap in [0, 1] (8-bit value / 255): 0 below 85, 2 from 170,
    1 between (inference.py's thresholds on the 8-bit trimap), as int64."""
    t8 = torch.round(trimap * 255)
    return torch.where(t8 < 85, 0, torch.where(t8 >= 170, 2, 1)).long()


@MODELS.register_module(name="MatteFormer")
class MatteFormer(nn.Module):
    """MatteFormer (Park et al., CVPR 2022): a Swin-T encoder whose window attention also sees
    prior-tokens of the trimap regions, a ResNet shortcut decoder with OS8 / OS4 / OS1 alpha heads.

    ``forward(x, trimap)`` takes ImageNet-normalised RGB and the trimap (N x 1 x H x W in [0, 1]),
    sides multiples of 32, and returns the alphas of the three heads at the input's size: the
    OS1 head (``alpha``), OS4 and OS8. The official procedure combines them
    (strategy ``matteformer-inference``)."""

    inputs = ("image", "trimap")
    output_names = ("alpha", "alpha_os4", "alpha_os8")
    #: five 2x reductions (patch embedding 4x, three patch mergings)
    size_divisor = 32
    default_strategy = "matteformer-inference"
    #: inference.py writes ``(alpha * 255).astype(np.uint8)``
    save_rule = "truncate"
    references = {"matteformer-readme": "MatteFormer"}
    weights = ("the official MatteFormer weights (best_model.pth, trained on Adobe Composition-1k) are linked "
               "from the README of github.com/webtoon/matteformer ('Performances', [model]: Google Drive "
               "1AU7uM1dtYjEhtOa_9OGfoQUE-tmW9mX5); pass the file as it is with --checkpoint")

    def __init__(self) -> None:
        super().__init__()
        self.encoder = MatteFormerEncoder()
        self.decoder = ResShortcutDecoder()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def fill_random_weights(self) -> None:
        """``--random-weights``: the deterministic, conditioned weights of the parity tests
        (converged spectral norms, calibrated heads: an alpha that spans (0, 1))."""
        from .conditioning import conditioned_state

        self.load_state_dict(conditioned_state())

    def forward(self, x: torch.Tensor, trimap: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if x.shape[2] % self.size_divisor or x.shape[3] % self.size_divisor:
            # the trimap grids of the stages (nearest, floored) would not match the merged tokens
            raise MatbenchError(f"MatteFormer needs sides that are multiples of {self.size_divisor}, got "
                                f"{x.shape[2]}x{x.shape[3]} (a strategy option 'divisor' other than 32?)")
        onehot = F.one_hot(trimap_classes(trimap[:, 0]), num_classes=3).permute(0, 3, 1, 2).to(x.dtype)
        features = self.encoder(torch.cat((x, onehot), dim=1), onehot)
        return self.decoder(features[-1], features[:-1])

    def load_checkpoint(self, path: str | Path) -> None:
        """Strict loading (``load_strict``: the released ``{'state_dict': ...}`` with ``module.``
        keys as it is), then a check that the relative-position index buffers the file carries are
        the ones the architecture defines."""
        load_strict(self, path)
        for name, module in self.named_modules():
            index = getattr(module, "relative_position_index", None)
            if index is not None and not torch.equal(index.cpu(), relative_position_index(module.window, module.prior_sets)):
                raise InputError(path, f"{name}.relative_position_index differs from MatteFormer's "
                                       "(a corrupted or foreign checkpoint)")
