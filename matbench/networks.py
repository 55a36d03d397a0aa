"""Networks and their weights: safe, strict checkpoint loading (``.pth`` with
``weights_only=True``, ``.safetensors``), building a network for inference, and running an
inference strategy on an image with one-line errors."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np
import torch

from .deterministic_weights import fill_deterministic
from .errors import InputError, MatbenchError
from .registry import MODELS, build


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint, loaded safely: ``.safetensors`` files (whatever their name says),
    or ``torch.load`` with ``weights_only=True`` (a file that needs to run code to load is refused;
    NumPy numbers are plain data: :func:`numpy_plain_data`).

    Accepts a plain state dict and ``{'state_dict': ...}`` (mmengine's checkpoints and official
    training scripts; their other entries — iteration, losses, optimizer — are ignored).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "checkpoint not found")
    if path.stat().st_size == 0:
        raise InputError(path, "empty checkpoint (0 bytes)")
    try:
        if path.suffix.lower() == ".safetensors" or is_safetensors(path):
            from safetensors.torch import load_file

            ckpt = load_file(str(path), device="cpu")
        else:
            with torch.serialization.safe_globals(numpy_plain_data()):
                ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling and safetensors errors have many types
        raise InputError(path, f"cannot load checkpoint safely: {first_line(exc)}") from None
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(path, "not a state dict (expected tensors, or {'state_dict': tensors})")
    if not state:
        raise InputError(path, "checkpoint holds no tensors (an empty state dict)")
    return state


def numpy_plain_data() -> list:
    """What unpickling NumPy numbers needs, allowed besides tensors (plain data, no code): the
    scalar constructor under its NumPy 1 and 2 names, ``np.dtype`` and the dtype classes of
    numbers. Official training scripts save running scores (``np.mean`` values) beside the
    weights; such a checkpoint must still load with ``weights_only=True``."""
    try:
        from numpy._core.multiarray import scalar          # NumPy 2
    except ImportError:                                    # NumPy 1
        from numpy.core.multiarray import scalar
    return [(scalar, "numpy.core.multiarray.scalar"), (scalar, "numpy._core.multiarray.scalar"),
            *dict.fromkeys([np.dtype, *(type(np.dtype(c)) for c in "?bhilqBHILQefd")])]


def is_safetensors(path: Path) -> bool:
    """Whether the file is in the safetensors format whatever its name says: an 8-byte
    little-endian header length, then that many bytes of a JSON object."""
    with open(path, "rb") as f:
        head = f.read(9)
    if len(head) < 9 or head[8:9] != b"{":
        return False
    return 8 + int.from_bytes(head[:8], "little") <= path.stat().st_size


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type name when the message is empty."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


#: where training wrappers keep the network: matbench's training models, DataParallel / DDP
WRAPPER_PREFIXES = ("network.", "module.network.", "module.")


def unwrap_state(state: dict[str, torch.Tensor], own: dict) -> dict[str, torch.Tensor]:
    """The network's part of a checkpoint written by a training wrapper (an mmengine
    checkpoint of a matbench training model holds ``network.*`` and preprocessor tensors)."""
    if any(k in state for k in own):
        return state
    for prefix in WRAPPER_PREFIXES:
        inner = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if inner and any(k in inner for k in own):
            return inner
    return state


def tied_keys(state: dict[str, torch.Tensor]) -> list[list[str]]:
    """Groups of keys of a module's state dict that name one tensor (a submodule registered
    under two names, as a backbone aliased by encoder stages is)."""
    groups: dict[tuple, list[str]] = {}
    for key, tensor in state.items():
        if tensor.numel():
            groups.setdefault((tensor.data_ptr(), tensor.shape, tensor.stride()), []).append(key)
    return [keys for keys in groups.values() if len(keys) > 1]


def _same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether two copies of a tensor hold the same values (NaN equal to NaN: a broken copy is
    another error, reported when the network runs)."""
    b = b.to(a.dtype)
    return torch.equal(a, b) or bool(((a == b) | (a.isnan() & b.isnan())).all())


def load_strict(network: torch.nn.Module, path: str | Path) -> None:
    """Load a checkpoint into `network` strictly, naming the first mismatched keys.

    Beyond ``load_state_dict(strict=True)``: a floating-point tensor of the network stored as an
    integer one is refused (it would be truncated into a constant), and so is a checkpoint whose
    copies of one tied tensor differ (loading would keep whichever comes last)."""
    own = network.state_dict()
    state = unwrap_state(load_state_dict(path), own)
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
              for k in own if k in state and state[k].shape != own[k].shape]
    dtypes = [f"{k} {str(state[k].dtype).removeprefix('torch.')}" for k in own
              if k in state and own[k].is_floating_point() and not state[k].is_floating_point()]
    problems = [f"{label}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
                for label, keys in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", shapes),
                                    ("floating-point weights stored as integers", dtypes))
                if keys]
    if problems:
        raise InputError(path, "checkpoint does not fit the model (" + "; ".join(problems) + ")")
    for keys in tied_keys(own):
        first = state[keys[0]]
        for other in keys[1:]:
            if not _same_values(first, state[other]):
                raise InputError(path, f"checkpoint holds two different values for one tied tensor of the "
                                       f"model: {keys[0]} and {other} (they must be equal copies)")
    network.load_state_dict(state, strict=True)


#: how far float rounding may take an alpha outside [0, 1] before it is a wrong output, not noise
ALPHA_TOLERANCE = 1e-6


def checked_alpha(pred: Any, size: tuple[int, int], model: str, where: Any) -> np.ndarray:
    """A model's alpha for an image of ``size`` as float64 H x W in [0, 1], or a one-line error
    naming the image and the model: a non-float array (an 8-bit matte, a trimap), another shape
    (transposed, half-size, a batch), NaN/inf, or values outside [0, 1] (a x255 output, logits)
    are refused, never resized, picked from or clipped into plausible numbers."""
    if isinstance(pred, torch.Tensor):
        if not pred.is_floating_point():
            raise InputError(where, f"{model} returned a {str(pred.dtype).removeprefix('torch.')} alpha; "
                                    "expected floats in [0, 1]")
        pred = pred.detach().double().cpu().numpy()
    pred = np.asarray(pred)
    if pred.dtype.kind != "f":
        raise InputError(where, f"{model} returned a {pred.dtype} alpha; expected floats in [0, 1]")
    if pred.shape != tuple(size):
        raise InputError(where, f"{model} returned a {'x'.join(map(str, pred.shape))} alpha for a "
                                f"{size[0]}x{size[1]} image (expected exactly the image's height x width)")
    pred = pred.astype(np.float64, copy=False)
    finite = np.isfinite(pred)
    if not finite.all():
        raise InputError(where, f"{model} produced {int((~finite).sum())} non-finite (NaN/inf) alpha values")
    low, high = float(pred.min()), float(pred.max())
    if low < -ALPHA_TOLERANCE or high > 1 + ALPHA_TOLERANCE:
        raise InputError(where, f"{model} returned alpha values in [{low:.4g}, {high:.4g}], outside [0, 1] "
                                "(a x255 or logit output, or a missing clip)")
    return np.clip(pred, 0.0, 1.0)


AMP_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def image_tensor(rgb: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """uint8 H x W x 3 RGB -> 1 x 3 x H x W float64 in [0, 1] on ``device`` (the strategies' input)."""
    image = torch.tensor(rgb, dtype=torch.uint8, device=device)        # a copy: inputs may be read-only
    # contiguous: the permuted view's strides are channels-last, which would pick other convolution
    # kernels (other float rounding) for networks that run on it without resampling first
    return image.permute(2, 0, 1)[None].contiguous().double().div_(255)


def run_guarded(call: Callable[[], Any], device: torch.device, amp: str | None, where: Any) -> Any:
    """``call()`` under autocast when ``amp`` is set; a strategy's error (e.g. an image too small
    for it) and running out of memory become one-line errors naming the file ``where``."""
    with torch.autocast(device.type, dtype=AMP_DTYPES.get(amp), enabled=amp is not None):
        try:
            return call()
        except InputError:
            raise
        except MatbenchError as exc:
            raise InputError(where, str(exc)) from None
        except (MemoryError, RuntimeError) as exc:
            if not is_out_of_memory(exc):
                raise
            raise InputError(where, f"out of {'GPU ' if device.type == 'cuda' else ''}memory running the network "
                                    "on this image: try --strategy tiled (it bounds memory by its tile size), a "
                                    "smaller scale, or --amp fp16 on a GPU") from None


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception is torch (or Python) running out of host or GPU memory."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    return "out of memory" in text or "not enough memory" in text or "can't allocate memory" in text


def build_network(model: dict, checkpoint: str | None, random_weights: bool, strategy: Any,
                  channels_last: bool = False) -> torch.nn.Module:
    """The network of ``model``, checked against ``strategy``, with its weights, in eval mode."""
    network = build(MODELS, model)
    check = getattr(strategy, "check_model", None)
    if check is not None:
        check(network)
    if checkpoint:
        # a network whose weights are not one state-dict file (a transformers folder, an ONNX
        # graph) loads them itself
        load = getattr(network, "load_checkpoint", None)
        load(checkpoint) if callable(load) else load_strict(network, checkpoint)
    elif random_weights:
        # the same "random" network on every machine; a network whose plain random weights would
        # not run (e.g. spectral norms far from converged) fills itself
        fill = getattr(network, "fill_random_weights", None)
        fill() if callable(fill) else fill_deterministic(network)
    else:
        raise MatbenchError(f"model '{model['type']}' needs --checkpoint (or --random-weights for "
                            "a smoke test; its results are marked as such)")
    if channels_last:
        network = network.to(memory_format=torch.channels_last)
    return network.eval()


@runtime_checkable
class Strategy(Protocol):
    """An inference strategy: how a network is applied to a full-size image (plugins register
    them in ``STRATEGIES``).

    ``strategy(network, image)`` takes the image as a 1 x 3 x H x W float64 tensor in [0, 1]
    (8-bit values / 255) on the network's device and returns the H x W alpha (a tensor in
    [0, 1]). Optional: ``run(network, image)`` returning ``{"alpha": ..., "trimap": ...}`` when the
    strategy makes more than the alpha (``predict --save-trimap``), ``check_model(network)``
    refusing a network it cannot serve, ``label()`` naming it in tables.

    Trimap-based networks (``inputs = ("image", "trimap")``, see :func:`network_inputs`) get the
    trimap too: the strategy is then called as ``strategy(network, image, trimap=trimap)`` (and
    ``run`` likewise), ``trimap`` a 1 x 1 x H x W float64 tensor in [0, 1] (0, 128/255, 1) on
    the same device. The strategy hands it to the network as a second argument,
    ``network(x, trimap)``, cropped, padded and resized (nearest neighbour) exactly where it
    crops, pads and resizes the image. A strategy that serves such networks says so by
    accepting a ``trimap`` keyword; the others are refused for them before any work
    (:func:`check_trimap_support`), and automatic networks are called as before.
    """

    def __call__(self, network: torch.nn.Module, image: torch.Tensor) -> torch.Tensor: ...


def network_inputs(network: Any) -> tuple[str, ...]:
    """What a network (or model class) takes: its ``inputs``, ``("image",)`` when it names none."""
    return tuple(getattr(network, "inputs", ("image",)))


def takes_trimap(network: Any) -> bool:
    """Whether the network takes a trimap besides the image (a trimap-based network)."""
    return "trimap" in network_inputs(network)


def check_trimap_support(strategy: Any, network: torch.nn.Module, name: str) -> None:
    """Refuse a strategy that cannot pass a trimap to the trimap-based network ``name``."""
    import inspect

    if not takes_trimap(network):
        return
    call = getattr(strategy, "run", None) if callable(getattr(strategy, "run", None)) else strategy
    try:
        params = inspect.signature(call).parameters
    except (TypeError, ValueError):
        params = {}
    if "trimap" not in params:
        raise MatbenchError(f"strategy '{type(strategy).__name__}' cannot pass a trimap to '{name}' "
                            "(a trimap-based network): choose a strategy that takes one, e.g. full")


def trimap_tensor(trimap: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """uint8 H x W trimap (0/128/255) -> 1 x 1 x H x W float64 in [0, 1] on ``device``."""
    return torch.tensor(trimap, dtype=torch.uint8, device=device)[None, None].double().div_(255)


def run_strategy(strategy: Strategy, network: torch.nn.Module, image: torch.Tensor,
                 trimap: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Everything a strategy makes of ``image`` (and ``trimap``, for a trimap-based network):
    its ``run`` when it has one, else ``{"alpha": call}``."""
    extra = {"trimap": trimap} if trimap is not None else {}
    run = getattr(strategy, "run", None)
    if callable(run):
        return run(network, image, **extra)
    return {"alpha": strategy(network, image, **extra)}
