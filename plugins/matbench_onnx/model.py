"""``onnx``: an ONNX matting graph run by onnxruntime behind matbench's network contract.

What an export expects is said with ``--model-option KEY=VALUE`` (values are Python literals):

* ``trimap``: None (the graph takes the image only), ``"channel"`` (the trimap in [0, 1] is a
  4th input channel) or ``"input"`` (the graph's second input).
* ``scale``, ``mean``, ``std``: the graph sees ``(pixel * scale - mean) / std`` with ``pixel`` the
  8-bit value (default ``scale=1/255``, mean 0, std 1: RGB in [0, 1]); mean and std are one
  number or one per channel.
* ``size``: ``"any"`` (default), N (padded by the strategy to a multiple of N, then cropped) or
  ``[H, W]`` (a fixed input size: bilinear resize there and back, the trimap nearest).
* ``output``: the alpha output, by name or index (default: the first); ``activation="sigmoid"`` for
  graphs that return logits.
* ``extra_inputs``: values of the graph's other inputs by name (``{"downsample_ratio": 0.25}``);
  any other input is fed zeros of its declared shape (e.g. a recurrent state).
* ``providers``: onnxruntime execution providers (default ``["CPUExecutionProvider"]``).
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import MODELS, InputError, MatbenchError

TRIMAP_LAYOUTS = (None, "channel", "input")
NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
               "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_}


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise MatbenchError("model 'onnx' needs the onnx extra: pip install 'matbench-matting[onnx]'") from None
    return onnxruntime


def _number(value: Any, what: str) -> float:
    """A number, or a fraction written as text ("1/255")."""
    try:
        return float(Fraction(str(value))) if isinstance(value, str) else float(value)
    except (ValueError, ZeroDivisionError):
        raise MatbenchError(f"model 'onnx': {what} should be a number, got {value!r}") from None


def _per_channel(value: Any, what: str) -> torch.Tensor:
    values = [value] * 3 if not isinstance(value, (list, tuple)) else list(value)
    if len(values) != 3:
        raise MatbenchError(f"model 'onnx': {what} needs one value or three (RGB), got {value!r}")
    return torch.tensor([_number(v, what) for v in values], dtype=torch.float64).view(1, 3, 1, 1)


@MODELS.register_module(name="onnx")
class OnnxMatting(nn.Module):
    """Any ONNX matting model (onnxruntime): --checkpoint model.onnx, conventions as --model-option."""

    inputs = ("image",)
    output_names = ("alpha",)
    default_strategy = "full"
    size_divisor = 1
    weights = "an ONNX file: --checkpoint model.onnx (its conventions as --model-option KEY=VALUE)"

    def __init__(self, trimap: Optional[str] = None, scale: Union[float, str] = "1/255",
                 mean: Union[float, Sequence[float]] = 0.0, std: Union[float, Sequence[float]] = 1.0,
                 size: Union[str, int, Sequence[int]] = "any", output: Union[str, int, None] = None,
                 activation: Optional[str] = None, extra_inputs: Optional[dict] = None,
                 providers: Optional[Sequence[str]] = None) -> None:
        super().__init__()
        _onnxruntime()
        if trimap not in TRIMAP_LAYOUTS:
            raise MatbenchError(f"model 'onnx': unknown trimap={trimap!r} (None, 'channel' or 'input')")
        if activation not in (None, "sigmoid"):
            raise MatbenchError(f"model 'onnx': unknown activation={activation!r} (None or 'sigmoid')")
        self.trimap, self.output, self.activation = trimap, 0 if output is None else output, activation
        self.inputs = ("image", "trimap") if trimap else ("image",)
        # the graph sees (pixel * scale - mean) / std; the strategies give pixel / 255
        self.factor = 255 * _number(scale, "scale")
        self.register_buffer("mean", _per_channel(mean, "mean"), persistent=False)
        self.register_buffer("std", _per_channel(std, "std"), persistent=False)
        self.fixed_size: Optional[tuple[int, int]] = None
        if isinstance(size, int) and size > 0:
            self.size_divisor = size                       # the strategy pads to it and crops back
        elif isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(s, int) and s > 0 for s in size):
            self.fixed_size = (int(size[0]), int(size[1]))
        elif size != "any":
            raise MatbenchError(f"model 'onnx': unknown size={size!r} ('any', a multiple N, or [H, W])")
        self.extra_inputs = dict(extra_inputs or {})
        self.providers = list(providers or ["CPUExecutionProvider"])
        self.session = None
        # strategies find the device from the parameters; a graph has none of torch's
        self.device_anchor = nn.Parameter(torch.zeros(0), requires_grad=False)

    def load_checkpoint(self, path: str | Path) -> None:
        """Open the ONNX graph and check it against the options."""
        ort = _onnxruntime()
        path = Path(path)
        if not path.is_file():
            raise InputError(path, "ONNX model not found")
        try:
            options = ort.SessionOptions()
            options.log_severity_level = 4          # its errors reach the user as matbench's one line
            self.session = ort.InferenceSession(str(path), options, providers=self.providers)
        except Exception as exc:  # onnxruntime's errors have many types
            lines = str(exc).strip().splitlines()
            raise InputError(path, f"cannot load the ONNX model: {lines[0] if lines else type(exc).__name__}") from None
        graph_inputs = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        needed = 2 if self.trimap == "input" else 1
        if len(graph_inputs) < needed:
            raise InputError(path, f"trimap='input' needs a graph with two inputs; it has {', '.join(graph_inputs)}")
        if isinstance(self.output, int) and not 0 <= self.output < len(outputs) or \
                isinstance(self.output, str) and self.output not in outputs:
            raise InputError(path, f"no output {self.output!r} (outputs: {', '.join(outputs)})")
        unknown = sorted(set(self.extra_inputs) - set(graph_inputs))
        if unknown:
            raise InputError(path, f"extra_inputs names no input of the graph: {', '.join(unknown)} "
                                   f"(inputs: {', '.join(graph_inputs)})")
        self._check_image_input(path, self.session.get_inputs()[0])

    def _check_image_input(self, path: Path, spec: Any) -> None:
        """Refuse, before any image, options that contradict the image input the graph declares:
        its channels (3, or 4 with the trimap as a channel) and a fixed size it needs."""
        shape = list(spec.shape) if spec.shape is not None else []
        if len(shape) != 4:
            return
        channels, height, width = shape[1:]
        expected = 4 if self.trimap == "channel" else 3
        if isinstance(channels, int) and channels != expected:
            hint = ("--model-option trimap=channel (the trimap as a 4th channel)" if channels == 4 else
                    "no trimap=channel" if channels == 3 else "a graph that takes an RGB image")
            raise InputError(path, f"the graph's input '{spec.name}' takes {channels} channels, the options give "
                                   f"{expected}: use {hint}")
        if isinstance(height, int) and isinstance(width, int) and self.fixed_size != (height, width):
            raise InputError(path, f"the graph's input '{spec.name}' has a fixed size {height}x{width}: pass "
                                   f"--model-option size=[{height},{width}] (images are resized there and back)")

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> what the graph expects."""
        if self.factor != 1:
            x = x * self.factor
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def _feeds(self, image: np.ndarray, trimap: Optional[np.ndarray]) -> dict[str, np.ndarray]:
        feeds = {}
        for k, spec in enumerate(self.session.get_inputs()):
            dtype = NUMPY_TYPES.get(spec.type, np.float32)
            if k == 0:
                value = image
            elif k == 1 and self.trimap == "input":
                value = trimap
            elif spec.name in self.extra_inputs:
                value = np.asarray(self.extra_inputs[spec.name])
            else:
                value = np.zeros([d if isinstance(d, int) and d > 0 else 1 for d in spec.shape])
            feeds[spec.name] = np.ascontiguousarray(value, dtype=dtype)
        return feeds

    def forward(self, x: torch.Tensor, trimap: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Normalised N x 3 x H x W image (and N x 1 x H x W trimap in [0, 1]) -> N x 1 x H x W alpha."""
        if self.session is None:
            raise MatbenchError("model 'onnx' runs an ONNX file: give it with --checkpoint model.onnx")
        h, w = x.shape[2:]
        if self.fixed_size is not None and (h, w) != self.fixed_size:
            x = F.interpolate(x, size=self.fixed_size, mode="bilinear", align_corners=False)
            if trimap is not None:
                trimap = F.interpolate(trimap, size=self.fixed_size, mode="nearest-exact")
        if self.trimap == "channel":
            x = torch.cat([x, trimap.to(x.dtype)], dim=1)
        image = x.detach().float().cpu().numpy()
        tri = trimap.detach().float().cpu().numpy() if self.trimap == "input" else None
        try:
            results = self.session.run(None, self._feeds(image, tri))
        except Exception as exc:  # onnxruntime's errors have many types
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise MatbenchError(f"the ONNX graph failed on a {h}x{w} input ({detail}); if it needs sides that "
                                "are a multiple of N, pass --model-option size=N (padded and cropped back), or "
                                "size=[H,W] for a fixed size") from None
        names = [o.name for o in self.session.get_outputs()]
        index = names.index(self.output) if isinstance(self.output, str) else self.output
        alpha = torch.from_numpy(np.asarray(results[index], dtype=np.float32)).to(x.device)
        alpha = alpha.reshape((1, 1) + alpha.shape) if alpha.dim() == 2 else alpha
        alpha = alpha[:, None] if alpha.dim() == 3 else alpha
        if alpha.dim() != 4 or alpha.shape[1] != 1:
            raise MatbenchError(f"model 'onnx': output {names[index]!r} has shape {tuple(alpha.shape)}; "
                                "expected one alpha channel (choose it with output=NAME)")
        if self.activation == "sigmoid":
            alpha = torch.sigmoid(alpha)
        if tuple(alpha.shape[2:]) != (h, w):
            alpha = F.interpolate(alpha, size=(h, w), mode="bilinear", align_corners=False)
        return alpha
