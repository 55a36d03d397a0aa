"""The compiled kernels of the metric variants (numba, ``cache=True``): compiled once per
installation into numba's on-disk cache, and said so when that happens.

With an empty cache the first metric call of a process compiles every kernel it reaches (about
40 s for the "aim" variant on 2 cores); with a full one it loads them (about 2 s). An evaluation
that finds them not yet compiled says so in one line and compiles them once in the main process
before its metric workers start (forked, they inherit the compiled code instead of each compiling
it again); ``matbench warmup`` does it ahead of time for every variant.

The kernels a variant uses are found by following the names its ``compute_image`` (and the PNG
reader) refer to, function by function; a kernel is compiled when numba's cache holds its index
file.
"""
from __future__ import annotations

import os
import time
import types
from typing import Any, Callable, Iterable


def _referenced(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _referenced(const)
    return names


def kernels(roots: Iterable[Any]) -> list:
    """The cached numba kernels reachable from ``roots`` (functions, dispatchers) through the
    global names their code uses (a module's attributes too); inlined ones have no cache file."""
    from numba.core.dispatcher import Dispatcher

    found: dict[int, Any] = {}
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Dispatcher):
            if hasattr(obj._cache, "_cache_file") and obj.targetoptions.get("inline", "never") == "never":
                found[id(obj)] = obj
            obj = obj.py_func
        obj = getattr(obj, "__func__", obj)                 # staticmethod / classmethod
        if not isinstance(obj, types.FunctionType):
            continue
        names = _referenced(obj.__code__)
        for name in names:
            value = obj.__globals__.get(name)
            if isinstance(value, types.ModuleType):
                stack += [vars(value)[attr] for attr in names if attr in vars(value)]
            elif value is not None:
                stack.append(value)
    return list(found.values())


def _roots(metric_cls: type) -> list:
    from . import png

    return [metric_cls.__dict__.get("compute_image", metric_cls.compute_image), png.read_grey8_png, png.warm_up]


def uncompiled(metric_cls: type) -> int:
    """How many kernels of a variant's workers have no compiled code in numba's cache."""
    return sum(not os.path.exists(k._cache._cache_file._index_path) for k in kernels(_roots(metric_cls)))


def compile_kernels(metric_cls: type, say: Callable[[str], None] | None = None) -> float:
    """Compile (or load) a variant's kernels in this process, saying so first when some are not in
    the cache yet; returns the seconds it took."""
    from .evaluation.metric import warm_up

    missing = uncompiled(metric_cls)
    if missing and say is not None:
        say(f"matbench: compiling the metric kernels of '{metric_cls.variant}' ({missing} not yet compiled), once "
            "for this installation: about 40 s on 2 cores")
    start = time.perf_counter()
    warm_up(metric_cls)
    return time.perf_counter() - start


def warm_all() -> list[str]:
    """Compile (or load) the kernels of every registered metric variant; one line per variant."""
    from .plugins import load_plugins_of
    from .registry import METRICS

    load_plugins_of(METRICS)
    lines = []
    for name, cls in sorted(METRICS.module_dict.items()):
        found, missing = len(kernels(_roots(cls))), uncompiled(cls)
        seconds = compile_kernels(cls)
        state = f"compiled {missing} in {seconds:.1f} s" if missing else f"already compiled (loaded in {seconds:.1f} s)"
        lines.append(f"{name}: {found} kernels, {state}")
    return lines
