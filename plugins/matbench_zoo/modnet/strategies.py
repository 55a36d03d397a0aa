"""MODNet's official inference procedures.

``modnet-colab`` (the default): ``demo/image_matting/colab/inference.py``, the README's
"Portrait Image Matting" demo. ``modnet-onnx``: ``onnx/inference_onnx.py``, the ONNX demo the
repository also ships (contributed by the community; OpenCV resizing, the matte truncated to
8 bits before it is resized back), run here with the PyTorch network in place of ONNX Runtime.

Both scale the photo to the reference size (512) by the same rule, :func:`reference_size`.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import STRATEGIES, BaseStrategy, MatbenchError, check_finite, check_size

#: the network's size divisor: both scripts floor the scaled sides to multiples of it
DIVISOR = 32


def reference_size(h: int, w: int, ref_size: int = 512) -> tuple[int, int]:
    """The network-input size of an h x w photo in the official scripts: a photo whose long side
    is below ``ref_size``, or whose short side is above it, gets its short side scaled to
    ``ref_size`` (the long side in proportion, truncated); any other keeps its size. Each side is
    then floored to a multiple of 32, so the proportions may change a little."""
    if max(h, w) < ref_size or min(h, w) > ref_size:
        if w >= h:
            h, w = ref_size, int(w / h * ref_size)      # float division first, as the scripts compute it
        else:
            h, w = int(h / w * ref_size), ref_size
    return h - h % DIVISOR, w - w % DIVISOR


def _network_input(network: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x`` in the network's memory layout (``--channels-last``)."""
    channels_last = next(network.parameters()).is_contiguous(memory_format=torch.channels_last)
    return x.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def _forward(network: nn.Module, x: torch.Tensor) -> torch.Tensor:
    matte = network(_network_input(network, x))
    check_finite({"alpha": matte}, type(network).__name__)
    return matte.float()


class _ReferenceSize(BaseStrategy):
    """What both demos share: the network-input size by :func:`reference_size` (``ref_size``:
    the scripts' constant 512)."""

    needs = (("alpha",),)

    def __init__(self, ref_size: int = 512) -> None:
        if ref_size < DIVISOR:
            raise MatbenchError(f"ref_size must be at least {DIVISOR}, got {ref_size}")
        self.ref_size = ref_size

    def _size(self, image: torch.Tensor) -> tuple[int, int]:
        size = reference_size(image.shape[2], image.shape[3], self.ref_size)
        check_size(size, image, f"{self.label()}, whose sides are floored to multiples of {DIVISOR}")
        return size


@STRATEGIES.register_module(name="modnet-colab")
class ModnetColab(_ReferenceSize):
    """MODNet's Colab image-matting demo (the default), PyTorch area resizing.

    RGB to [-1, 1] in float32, PyTorch ``area`` resizing (adaptive average pooling, not OpenCV's
    ``INTER_AREA``) to :func:`reference_size` and of the matte back to full size."""

    def label(self) -> str:
        return f"MODNet Colab (ref {self.ref_size})"

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        h, w = image.shape[2:]
        size = self._size(image)
        # ToTensor then Normalize, in float32 as torchvision computes them: 8-bit value / 255,
        # then (x - 0.5) / 0.5; the resizing comes after the normalisation. Contiguous N x C x H x W
        # like the official tensor: a channels-last input would take other kernels (other roundings)
        x = network.normalize(torch.round(image * 255).float().contiguous() / 255)
        matte = _forward(network, F.interpolate(x, size=size, mode="area"))
        return {"alpha": F.interpolate(matte, size=(h, w), mode="area")[0, 0].double()}


@STRATEGIES.register_module(name="modnet-onnx")
class ModnetOnnx(_ReferenceSize):
    """MODNet's ONNX demo (community, in the official repo), OpenCV area resizing.

    RGB to [-1, 1] in float64, OpenCV ``INTER_AREA`` resizing by the scale factors of
    :func:`reference_size`, the matte truncated to 8 bits and resized back (``INTER_AREA``) as
    8 bits."""

    def label(self) -> str:
        return f"MODNet ONNX demo (ref {self.ref_size})"

    def run(self, network: nn.Module, image: torch.Tensor,
            trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        import cv2

        h, w = image.shape[2:]
        rh, rw = self._size(image)
        rgb = torch.round(image[0] * 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        x = cv2.resize((rgb - 127.5) / 127.5, None, fx=rw / w, fy=rh / h, interpolation=cv2.INTER_AREA)
        x = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)).to(image.device)
        matte = _forward(network, x)[0, 0].cpu().numpy()
        matte8 = cv2.resize((matte * 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_AREA)
        return {"alpha": torch.from_numpy(matte8).to(image.device).double() / 255}
