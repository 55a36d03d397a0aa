"""Plugin discovery through the `matbench.plugins` entry-point group."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points

from .errors import MatbenchError
from .registry import REGISTRIES

ENTRY_POINT_GROUP = "matbench.plugins"
_loaded: dict[str, str] = {}     # module name -> distribution that declared it


def load_plugins() -> dict[str, str]:
    """Import every plugin module once; returns {module: distribution}."""
    if _loaded:
        return _loaded
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else "?"
        try:
            importlib.import_module(ep.value.split(":")[0])
        except ImportError as exc:
            raise MatbenchError(f"plugin '{ep.name}' ({ep.value}, from {dist}) failed to import: {exc}") from exc
        _loaded[ep.value.split(":")[0]] = dist
    return _loaded


@dataclass(frozen=True)
class PluginInfo:
    kind: str
    name: str
    module: str
    package: str


def registered(kind: str | None = None) -> list[PluginInfo]:
    """Every registered plugin (optionally of one kind) with the package it came from."""
    modules = load_plugins()
    if kind is not None and kind not in REGISTRIES:
        raise MatbenchError(f"unknown plugin kind '{kind}' (known: {', '.join(REGISTRIES)})")
    kinds = [kind] if kind else list(REGISTRIES)
    rows = []
    for k in kinds:
        for name, obj in sorted(REGISTRIES[k].module_dict.items()):
            module = getattr(obj, "__module__", "?")
            top = module.split(".")[0]
            package = next((d for m, d in modules.items() if m.split(".")[0] == top), top)
            rows.append(PluginInfo(k, name, module, package))
    return rows
