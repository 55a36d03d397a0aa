"""matbench's public plugin API: everything a plugin needs, from one module.

A plugin is a Python package declared in the ``matbench.plugins`` entry-point group; importing it
registers its classes. It imports only from here (the first-party plugins do too)::

    from matbench.api import MODELS, TrimapMattingModel

    @MODELS.register_module()
    class MyMethod(TrimapMattingModel):
        def predict(self, image, trimap):      # uint8 HxWx3, uint8 HxW (0/128/255)
            return trimap / 255.0              # -> float HxW in [0, 1]

What each kind of plugin provides (contracts in docs/plugins.md):

* models (``MODELS``): a :class:`TrimapMattingModel` (image + trimap -> alpha, native size), or a
  network — a ``torch.nn.Module`` whose ``forward`` takes N x 3 x H x W RGB in [0, 1] (after its
  optional ``normalize(x)``) and returns one tensor or a tuple named by ``output_names``; class
  attributes describe it: ``size_divisor``, ``default_strategy``, ``weights`` (where its weights
  come from), ``default_network``.
* datasets (``DATASETS``): a :class:`MattingDataset` with ``METAINFO`` (name, title, groups,
  default_variant, trimap_rule, paper); override ``collect()`` for a new layout.
* strategies (``STRATEGIES``): see :class:`Strategy`.
* metric variants (``METRICS``): an :class:`ImageMetric` subclass.
* reference sources (``REFERENCES``): :func:`reference_file` of a JSON file of published rows.
"""
from __future__ import annotations

from .datasets import MattingDataset, files_by_stem, first_names, load_labels, match_by_stem
from .derived import DerivedFiles
from .errors import InputError, MatbenchError
from .evaluation.metric import ImageMetric
from .groups import group_spec, group_specs
from .io import (check_same_size, exif_orientation, image_size, read_alpha, read_alpha8, read_json,
                 read_prediction, read_rgb, read_trimap, size_text, to_uint8, write_png_atomic)
from .leaderboard.references import reference_file
from .models import TrimapMattingModel
from .plugins import cache_dir
from .registry import (DATA_SAMPLERS, DATASETS, HOOKS, METRICS, MODELS, REFERENCES, STRATEGIES,
                       TRANSFORMS, build, lookup)
from .training import PIPELINED_PREPROCESSOR
from .trimaps import dilate_erode

#: names whose modules import torch, imported at their first use (PEP 562): a metric or dataset
#: plugin then loads without torch, and scoring a folder of predictions never imports it
_NEED_TORCH = {"Strategy": "networks", "image_tensor": "networks", "load_state_dict": "networks",
               "load_strict": "networks", "run_strategy": "networks", "unwrap_state": "networks",
               "unbatch": "evaluation.predictors",
               "BaseStrategy": "strategies", "check_finite": "strategies", "check_size": "strategies",
               "output_names": "strategies", "run_network": "strategies",
               "keep_masks": "resampling", "resize_trimap": "resampling", "scaled_size": "resampling",
               "skimage014_resize": "resampling",
               "fill_deterministic": "deterministic_weights", "recalibrate_batchnorm": "deterministic_weights"}


def __getattr__(name: str) -> object:
    if name not in _NEED_TORCH:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{_NEED_TORCH[name]}", __package__), name)


__all__ = [
    # registries
    "DATASETS", "DATA_SAMPLERS", "HOOKS", "METRICS", "MODELS", "REFERENCES", "STRATEGIES", "TRANSFORMS",
    "build", "lookup",
    # errors
    "InputError", "MatbenchError",
    # bases and protocols
    "ImageMetric", "MattingDataset", "Strategy", "TrimapMattingModel",
    # datasets
    "files_by_stem", "first_names", "group_spec", "group_specs", "load_labels", "match_by_stem",
    # files made from input files, cached and trusted by content (generated trimaps, converted mattes)
    "DerivedFiles",
    # images
    "check_same_size", "exif_orientation", "image_size", "read_alpha", "read_alpha8", "read_json",
    "read_prediction", "read_rgb", "read_trimap", "size_text", "to_uint8", "write_png_atomic",
    # networks
    "image_tensor", "load_state_dict", "load_strict", "run_strategy", "unbatch", "unwrap_state",
    # strategies: a base class and the steps they share; resizing as the official codes resize
    "BaseStrategy", "check_finite", "check_size", "output_names", "run_network",
    "keep_masks", "resize_trimap", "scaled_size", "skimage014_resize",
    # seeded weights the same on every machine, conditioned for parity tests
    "fill_deterministic", "recalibrate_batchnorm",
    # published results
    "reference_file",
    # matbench's cache folder ($MATBENCH_CACHE; the embedded dataset keeps its files there)
    "cache_dir",
    # trimaps made from an alpha (the dilate/erode rule of several official codes)
    "dilate_erode",
    # training
    "PIPELINED_PREPROCESSOR",
]
