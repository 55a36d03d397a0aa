"""Plugin discovery through the `matbench.plugins` entry-point group."""
from __future__ import annotations

import importlib
import re
import warnings
from dataclasses import dataclass
from importlib.metadata import entry_points

from .errors import MatbenchError, PluginWarning
from .registry import REGISTRIES

ENTRY_POINT_GROUP = "matbench.plugins"
_loaded: dict[str, str] = {}     # module name -> distribution that declared it
_failed: dict[str, str] = {}     # plugins that could not be imported


def load_plugins() -> dict[str, str]:
    """Import every plugin module once; returns {module: distribution}.

    A plugin that fails to import (any exception, a name another package already registered
    among them) is left out with one :class:`PluginWarning` naming it — and for a clash the
    package that has the name — and whatever it registered before failing is removed: the other
    plugins keep working."""
    if _loaded or _failed:
        return _loaded
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else "?"
        module = ep.value.split(":")[0]
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - a third party's bug must not break matbench
            _unregister(module)
            _failed[module] = dist
            warnings.warn(f"plugin '{ep.name}' ({module}, from {dist}) not loaded: {_reason(exc)}",
                          PluginWarning, stacklevel=2)
            continue
        _loaded[module] = dist
    return _loaded


def _reason(exc: Exception) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip("'\"")
    clash = re.search(r"(\S+) is already registered in (\w+) at ([\w.]+)", text)
    if clash:
        name, kind, owner = clash.groups()
        owner_dist = next((d for m, d in _loaded.items() if m.split(".")[0] == owner.split(".")[0]),
                          owner.split(".")[0])
        return f"its {kind} '{name}' is already registered by {owner_dist} ({owner})"
    return f"{type(exc).__name__}: {text}"


def _unregister(module: str) -> None:
    """Remove what `module` (a plugin that failed half-way) registered."""
    top = module.split(".")[0]
    for registry in REGISTRIES.values():
        for name, obj in list(registry.module_dict.items()):
            if getattr(obj, "__module__", "").split(".")[0] == top:
                del registry._module_dict[name]


@dataclass(frozen=True)
class PluginInfo:
    kind: str
    name: str
    module: str
    package: str
    #: for models: their kind and one line of description
    what: str = ""


#: the kinds a user chooses from (`matbench list KIND`); "training" lists the training pieces
CHOICES = ("models", "datasets", "strategies", "metrics", "references")


def _summary(obj: object) -> str:
    """One line about a plugin: a dataset's title and convention, a metric variant's title, a
    reference file's source, else the first sentence of its docstring."""
    info = getattr(obj, "METAINFO", None)
    if isinstance(info, dict) and info.get("title"):
        variant = info.get("default_variant")
        return f"{info['title']}" + (f" (default variant {variant})" if variant else "")
    if isinstance(getattr(obj, "title", None), str) and obj.title:
        return obj.title
    if callable(getattr(obj, "source", None)):       # a reference file's loader
        return obj.source()
    text = " ".join((getattr(obj, "__doc__", None) or "").split("\n\n")[0].split())
    sentence = re.split(r"(?<=[a-z0-9)])[.:] ", text + " ")[0].strip().rstrip(".:")
    return sentence if len(sentence) <= 80 else sentence[:77] + "..."


def model_kind(cls: object) -> str | None:
    """"trimap-based", "network (automatic)" or "network (trimap-based)" for what a user evaluates;
    None for training pieces (losses, wrappers, backbones) and prediction sources."""
    from .models import TrimapMattingModel

    if not isinstance(cls, type):
        return None
    if issubclass(cls, TrimapMattingModel):
        return "trimap-based"
    if hasattr(cls, "output_names") or getattr(cls, "default_strategy", None):
        inputs = tuple(getattr(cls, "inputs", ("image",)))
        return f"network ({'trimap-based' if 'trimap' in inputs else 'automatic'})"
    return None


def _is_prediction_source(cls: object) -> bool:
    from .evaluation.predictors import Predictor

    return isinstance(cls, type) and issubclass(cls, Predictor)


def _is_test_set(cls: object) -> bool:
    from .datasets import MattingDataset

    return isinstance(cls, type) and issubclass(cls, MattingDataset)


def registered(kind: str | None = None) -> list[PluginInfo]:
    """Every registered plugin a user chooses from (optionally of one kind), with the package it
    came from; ``kind="training"``: losses, training models and datasets, transforms."""
    modules = load_plugins()
    if kind is not None and kind not in (*CHOICES, "training"):
        raise MatbenchError(f"unknown plugin kind '{kind}' (known: {', '.join((*CHOICES, 'training'))})")
    rows = []
    for k, registry in REGISTRIES.items():
        for name, obj in sorted(registry.module_dict.items()):
            if k == "models":
                if _is_prediction_source(obj):
                    continue
                what = model_kind(obj)
                shown_as = "models" if what else "training"
                what = f"{what}: {_summary(obj)}" if what else _summary(obj)
            elif k in ("datasets", "transforms"):
                shown_as = "datasets" if k == "datasets" and _is_test_set(obj) else "training"
                what = _summary(obj)
            else:
                shown_as, what = k, _summary(obj)
            if kind is not None and shown_as != kind:
                continue
            module = getattr(obj, "__module__", "?")
            top = module.split(".")[0]
            package = next((d for m, d in modules.items() if m.split(".")[0] == top), top)
            rows.append(PluginInfo(shown_as, name, module, package, what))
    return sorted(rows, key=lambda r: (list((*CHOICES, "training")).index(r.kind), r.name.lower()))
