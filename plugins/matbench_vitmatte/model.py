"""``ViTMatte``: transformers' ``VitMatteForImageMatting`` behind matbench's network contract.

Its input is prepared exactly as ``VitMatteImageProcessor`` prepares it: the RGB image rescaled
by 1/255 and normalised with the processor's mean and std, the trimap rescaled by 1/255 and
concatenated as a 4th channel, both zero-padded at the bottom and right to a multiple of 32 —
and the alpha is cropped back to the image (ViTMatte's issue 26: the padding must not leak into
the result). The processor's settings come from the checkpoint's ``preprocessor_config.json``
when it has one, else the processor's defaults.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from matbench.api import MODELS, InputError, MatbenchError

#: VitMatteImageProcessor's defaults (IMAGENET_STANDARD_MEAN / _STD, size_divisor)
PROCESSOR_DEFAULTS = {"image_mean": (0.5, 0.5, 0.5), "image_std": (0.5, 0.5, 0.5), "size_divisor": 32}


#: VitMatteConfig's defaults (ViTMatte-S) as lists
VITMATTE_S = {"convstream_hidden_sizes": [48, 96, 192], "fusion_hidden_sizes": [256, 128, 64, 32]}


def _transformers():
    try:
        import transformers
    except ImportError:
        raise MatbenchError("model 'ViTMatte' needs the vitmatte extra: pip install 'matbench-matting[vitmatte]'") from None
    return transformers


def processor_settings(folder: Path) -> dict:
    """Mean, std and padding divisor of the checkpoint's ``preprocessor_config.json`` (the
    processor's defaults for what it does not say, or when there is no such file)."""
    settings = dict(PROCESSOR_DEFAULTS)
    path = folder / "preprocessor_config.json"
    if path.is_file():
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(path, f"cannot read the processor settings: {exc}") from None
        if not isinstance(saved, dict):
            raise InputError(path, "the processor settings are not a JSON object")
        for key in ("image_mean", "image_std"):
            value = saved.get(key)
            if value is None:
                continue
            if (not isinstance(value, list) or len(value) != 3
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
                    or key == "image_std" and not all(v > 0 for v in value)):
                raise InputError(path, f"{key} should be three numbers (RGB){' above 0' if key == 'image_std' else ''}, "
                                       f"got {value!r}")
            settings[key] = tuple(float(v) for v in value)
        divisor = saved.get("size_divisor", saved.get("size_divisibility"))
        if divisor is not None:
            if not isinstance(divisor, int) or isinstance(divisor, bool) or divisor < 1:
                raise InputError(path, f"size_divisor should be a whole number of 1 or more, got {divisor!r}")
            settings["size_divisor"] = divisor
        if saved.get("do_pad") is False:
            settings["size_divisor"] = 1
    return settings


def check_checkpoint_folder(folder: Path) -> list[str]:
    """Refuse, in one line, a folder whose config names another model than ViTMatte; returns the
    keys its weights store as integers (checked against the model once it is built)."""
    config = folder / "config.json"
    try:
        model_type = json.loads(config.read_text()).get("model_type")
    except (OSError, ValueError, AttributeError) as exc:
        raise InputError(config, f"cannot read the model config: {exc}") from None
    if model_type != "vitmatte":
        raise InputError(config, f"a '{model_type}' checkpoint, not ViTMatte's (model_type 'vitmatte')")
    weights = folder / "model.safetensors"
    if not weights.is_file():
        return []                               # from_pretrained says what is missing
    from safetensors import safe_open

    try:
        with safe_open(str(weights), framework="pt") as f:
            return [k for k in f.keys() if f.get_slice(k).get_dtype().startswith(("I", "U", "BOOL"))]
    except Exception as exc:  # noqa: BLE001 - safetensors raises several types for a damaged file
        raise InputError(weights, f"cannot read the weights: {exc}") from None


@MODELS.register_module(name="ViTMatte")
class ViTMatte(nn.Module):
    """ViTMatte (trimap-based ViT matting) from a transformers checkpoint folder: --checkpoint DIR."""

    inputs = ("image", "trimap")
    output_names = ("alpha",)
    default_strategy = "full"
    #: the network pads itself as the processor does (zeros after normalisation), so a strategy
    #: that pads to ``size_divisor`` must not pad first
    size_divisor = 1
    weights = "a transformers checkpoint folder (config.json + model.safetensors): --checkpoint DIR"

    def __init__(self, config: Optional[dict] = None, image_mean: Optional[Sequence[float]] = None,
                 image_std: Optional[Sequence[float]] = None, pad_divisor: Optional[int] = None) -> None:
        """``config``: VitMatteConfig options of a network to build now, for ``--random-weights``
        smoke tests (a checkpoint brings its own). ``image_mean``, ``image_std`` and
        ``pad_divisor`` override the processor settings."""
        super().__init__()
        transformers = _transformers()
        self.overrides = {k: v for k, v in (("image_mean", image_mean), ("image_std", image_std),
                                            ("size_divisor", pad_divisor)) if v is not None}
        # strategies find the device from the parameters, also before a checkpoint is loaded
        self.device_anchor = nn.Parameter(torch.zeros(0), requires_grad=False)
        self.model = None
        if config is not None:
            # lists: some transformers versions cannot concatenate the config's default tuples
            config = {**VITMATTE_S, **config}
            self.model = transformers.VitMatteForImageMatting(transformers.VitMatteConfig(**config))
        self._settings(PROCESSOR_DEFAULTS)

    def _settings(self, settings: dict) -> None:
        settings = {**settings, **self.overrides}
        self.pad_divisor = int(settings["size_divisor"])
        device = self.device_anchor.device
        self.register_buffer("mean", torch.tensor(settings["image_mean"], device=device).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("std", torch.tensor(settings["image_std"], device=device).view(1, 3, 1, 1),
                             persistent=False)

    def load_checkpoint(self, path: str | Path) -> None:
        """Replace the network with the checkpoint folder's (its own ``config.json``), reading
        only safetensors and only from that folder."""
        transformers = _transformers()
        folder = Path(path)
        if not (folder / "config.json").is_file():
            raise InputError(folder, "not a transformers checkpoint folder (config.json and model.safetensors, "
                                     "as save_pretrained writes them)")
        integer = check_checkpoint_folder(folder)
        logging = transformers.utils.logging
        verbosity, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
        logging.set_verbosity_error()            # its load report: matbench says what is wrong in one line
        logging.disable_progress_bar()
        try:
            model, info = transformers.VitMatteForImageMatting.from_pretrained(
                str(folder), local_files_only=True, use_safetensors=True, output_loading_info=True)
        except Exception as exc:  # transformers raises OSError, ValueError, KeyError ...
            lines = str(exc).strip().splitlines()
            raise InputError(folder, f"cannot load ViTMatte: {lines[0] if lines else type(exc).__name__}") from None
        finally:
            logging.set_verbosity(verbosity)
            if bars:
                logging.enable_progress_bar()
        found = {label: sorted(map(str, info.get(key) or ()))
                 for label, key in (("missing", "missing_keys"), ("unexpected", "unexpected_keys"),
                                    ("mis-shaped", "mismatched_keys"))}
        problems = [f"{label}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''} ({len(keys)})"
                    for label, keys in found.items() if keys]
        if problems:
            # transformers would fill what is missing with random values and run
            raise InputError(folder, "checkpoint does not fit ViTMatte (" + "; ".join(problems) + ")")
        own = model.state_dict()
        truncated = [k for k in integer if k in own and own[k].is_floating_point()]
        if truncated:
            raise InputError(folder / "model.safetensors", f"floating-point weights stored as integers: "
                                                           f"{', '.join(truncated[:3])}{' ...' if len(truncated) > 3 else ''}")
        self.model = model.float().to(self.device_anchor.device)
        self._settings(processor_settings(folder))

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> the processor's normalised image."""
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def forward(self, x: torch.Tensor, trimap: torch.Tensor) -> torch.Tensor:
        """Normalised N x 3 x H x W image and N x 1 x H x W trimap in [0, 1] -> N x 1 x H x W alpha."""
        if self.model is None:
            raise MatbenchError("model 'ViTMatte' needs --checkpoint DIR (or, for --random-weights, "
                                "--model-option 'config={...}' to build one)")
        h, w = x.shape[2:]
        pixels = torch.cat([x, trimap.to(x.dtype)], dim=1)
        ph, pw = -h % self.pad_divisor, -w % self.pad_divisor
        if ph or pw:
            pixels = F.pad(pixels, (0, pw, 0, ph))
        return self.model(pixel_values=pixels).alphas[:, :, :h, :w]
