"""Import ``core/<name>.py`` of the official checkout without it staying in ``sys.modules``.

The official files import one another by bare top-level names (``from config import *``,
``from util import *``, ``from network.AimNet import AimNet``): names that collide with the
standard library (``test``) and with installed packages (``evaluate``, ``util``, ``config``...).
So they are imported with ``core/`` first on ``sys.path`` and any module of the same name set
aside, then moved out of ``sys.modules`` into this module's cache and the set-aside modules put
back. Bytecode writing is off meanwhile: the checkout is never written to.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Iterator

from .stand_ins import alias_scipy_morphology, missing_packages

ENV = "AIM_REF"
_loaded: dict[str, ModuleType] = {}


class OfficialCodeError(RuntimeError):
    """AIM_REF is unset or does not name a checkout of the official repository."""


def core_dir() -> Path:
    """``$AIM_REF/core``, checked to hold the official ``evaluate.py``."""
    root = os.environ.get(ENV, "")
    core = Path(root) / "core"
    if not root or not (core / "evaluate.py").is_file():
        raise OfficialCodeError(f"{ENV} must name a checkout of github.com/JizhiziLi/AIM (the folder "
                                f"holding core/evaluate.py); got {root!r}")
    return core.resolve()


def _official_names(core: Path) -> set[str]:
    """Top-level names the files of ``core/`` are imported under (modules and the network/ folder)."""
    return {p.stem for p in core.glob("*.py")} | {p.name for p in core.iterdir() if p.is_dir()}


def _origin(module: ModuleType) -> Path | None:
    where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", [])), None)
    return Path(where).resolve() if where else None


@contextlib.contextmanager
def _import_scope(core: Path) -> Iterator[None]:
    """Imports of official modules inside the block see ``core/`` first and the modules loaded
    before; the ones they create are kept in the cache on success, dropped on failure."""
    tops = _official_names(core)

    def ours(name: str) -> bool:
        return name.split(".")[0] in tops

    set_aside = {n: sys.modules.pop(n) for n in list(sys.modules) if ours(n)}
    stand_ins = missing_packages()
    sys.modules.update(_loaded)
    sys.modules.update(stand_ins)
    sys.path.insert(0, str(core))
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    imported: dict[str, ModuleType] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
        imported = {n: m for n, m in sys.modules.items() if ours(n)}
    finally:
        sys.dont_write_bytecode = dont_write
        sys.path.remove(str(core))
        for name in [n for n in sys.modules if ours(n)] + list(stand_ins):
            sys.modules.pop(name, None)
        sys.modules.update(set_aside)
    for name, mod in imported.items():
        origin = _origin(mod)
        if origin is None or not origin.is_relative_to(core):
            raise OfficialCodeError(f"{name} was imported from {origin}, not from {core}")
    _loaded.update(imported)


def module(name: str) -> ModuleType:
    """The official module ``name`` (``'evaluate'``, ``'test'``, ``'data'``, ``'network.AimNet'``...),
    imported once from ``$AIM_REF/core``."""
    if name not in _loaded:
        core = core_dir()
        with _import_scope(core):
            importlib.import_module(name)
        alias_scipy_morphology()
    return _loaded[name]
