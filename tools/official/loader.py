"""Import the files of an official repository without them staying in ``sys.modules``.

The official files import one another by bare top-level names (``from config import *``,
``from util import *``, ``from network.AimNet import AimNet``): names that collide with the
standard library (``test``) and with installed packages (``evaluate``, ``util``, ``config``...).
So they are imported with their code folder first on ``sys.path`` and any module of the same name
set aside, then moved out of ``sys.modules`` into the repository's own cache and the set-aside
modules put back. Bytecode writing is off meanwhile: the checkout is never written to.

One :class:`OfficialRepo` per official repository, each named by an environment variable
(``AIM_REF`` for AIM: :data:`AIM`; the model zoo's harnesses declare theirs).
"""
from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterator

from .stand_ins import alias_scipy_morphology, missing_packages


class OfficialCodeError(RuntimeError):
    """The environment variable of an official repository is unset or names no checkout of it."""


def _origin(module: ModuleType) -> Path | None:
    where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", [])), None)
    return Path(where).resolve() if where else None


class OfficialRepo:
    """An official repository named by ``env``: its code folder ``code`` (relative to the
    checkout, ``.`` for the root), checked to hold ``marker``; ``url`` names it in messages;
    ``stand_ins()`` gives modules it imports but does not need (by import name), given to its
    modules only while they are imported."""

    def __init__(self, env: str, url: str, code: str, marker: str,
                 stand_ins: Callable[[], dict[str, ModuleType]] = missing_packages) -> None:
        self.env, self.url, self.code, self.marker, self.stand_ins = env, url, code, marker, stand_ins
        self._loaded: dict[str, ModuleType] = {}

    def root(self) -> Path:
        """The checkout, ``$ENV``, checked to hold the marker file."""
        root = os.environ.get(self.env, "")
        if not root or not (Path(root) / self.code / self.marker).is_file():
            where = f"{self.code}/{self.marker}" if self.code != "." else self.marker
            raise OfficialCodeError(f"{self.env} must name a checkout of {self.url} (the folder holding "
                                    f"{where}); got {root!r}")
        return Path(root).resolve()

    def code_dir(self) -> Path:
        """The folder the official files import each other from."""
        return (self.root() / self.code).resolve()

    def _names(self, code: Path) -> set[str]:
        """Top-level names the official files are imported under (modules and packages)."""
        return {p.stem for p in code.glob("*.py")} | {p.name for p in code.iterdir() if p.is_dir()}

    @contextlib.contextmanager
    def _import_scope(self, code: Path) -> Iterator[None]:
        """Imports inside the block see ``code`` first and the modules loaded before; the ones
        they create are kept in the cache on success, dropped on failure."""
        tops = self._names(code)

        def ours(name: str) -> bool:
            return name.split(".")[0] in tops

        set_aside = {n: sys.modules.pop(n) for n in list(sys.modules) if ours(n)}
        stand_ins = self.stand_ins()
        sys.modules.update(self._loaded)
        sys.modules.update(stand_ins)
        sys.path.insert(0, str(code))
        dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True
        imported: dict[str, ModuleType] = {}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
            imported = {n: m for n, m in sys.modules.items() if ours(n)}
        finally:
            sys.dont_write_bytecode = dont_write
            sys.path.remove(str(code))
            for name in [n for n in sys.modules if ours(n)] + list(stand_ins):
                sys.modules.pop(name, None)
            sys.modules.update(set_aside)
        for name, mod in imported.items():
            origin = _origin(mod)
            if origin is None or not origin.is_relative_to(code):
                raise OfficialCodeError(f"{name} was imported from {origin}, not from {code}")
        self._loaded.update(imported)

    def scope(self) -> contextlib.AbstractContextManager:
        """A block in which the official files import each other as their scripts do (e.g. to run
        a script whose code is all under ``__main__`` with ``runpy``), leaving nothing behind."""
        return self._import_scope(self.code_dir())

    def module(self, name: str) -> ModuleType:
        """The official module ``name`` (e.g. ``'network.AimNet'``), imported once."""
        if name not in self._loaded:
            with self._import_scope(self.code_dir()):
                importlib.import_module(name)
            alias_scipy_morphology()
        return self._loaded[name]


#: github.com/JizhiziLi/AIM, from $AIM_REF (its files live in core/)
AIM = OfficialRepo("AIM_REF", "github.com/JizhiziLi/AIM", "core", "evaluate.py")
ENV = AIM.env


def core_dir() -> Path:
    """``$AIM_REF/core``, checked to hold the official ``evaluate.py``."""
    return AIM.code_dir()


def module(name: str) -> ModuleType:
    """The official AIM module ``name`` (``'evaluate'``, ``'test'``, ``'data'``, ``'network.AimNet'``...),
    imported once from ``$AIM_REF/core``."""
    return AIM.module(name)
