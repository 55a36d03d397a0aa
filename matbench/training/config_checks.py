"""Checks of a training config before anything is built: every ``type`` is registered, every
``--cfg-options`` key names something (mmengine would add a misspelt one silently)."""
from __future__ import annotations

import difflib
import inspect
from pathlib import Path
from typing import Any, Optional

from ..errors import MatbenchError


#: top-level keys mmengine's Runner reads besides its constructor's arguments
RUNNER_EXTRA_KEYS = ("model_wrapper_cfg", "find_unused_parameters", "compile", "activation_checkpointing",
                     "efficient_conv_bn_eval")


def check_option_key(cfg, key: str, config: Path) -> None:
    """Refuse a ``--cfg-options`` key that names nothing, with a "did you mean" (mmengine would add
    it silently and the run would ignore it).

    Every component of the key must exist in the config, with two exceptions: the first may be any
    argument of mmengine's Runner (``randomness``, ``work_dir``, ...), and the last may be a new
    keyword argument: of a ``dict(type=...)`` whose class takes it (``model.channels_last``,
    ``optim_wrapper.optimizer.weight_decay``), or of a plain dict (``train_dataloader.pin_memory``)
    unless it is a near miss of a key already there (``train_cfg.max_iter`` for ``max_iters``)."""
    from mmengine.runner import Runner

    from ..registry import did_you_mean

    runner_keys = (set(inspect.signature(Runner.__init__).parameters) - {"self", "cfg"}) | set(RUNNER_EXTRA_KEYS)
    parts = key.split(".")
    node: Any = cfg.to_dict()
    for depth, part in enumerate(parts):
        if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            return                     # a value (None, a number, a list) replaced: nothing to check
        if part in node:
            node = node[part]
            continue
        if depth == 0:
            if part in runner_keys:
                return
            known = set(node) | runner_keys
        elif depth < len(parts) - 1:
            known = set(node)
        elif isinstance(node.get("type"), str) or inspect.isclass(node.get("type")):
            params = _keyword_arguments(node["type"])
            if params is None or part in params:
                return
            known = set(node) | params
        else:
            near = difflib.get_close_matches(part, list(node), n=1, cutoff=0.8)
            if not near:
                return
            known = set(near)
        raise MatbenchError(f"{config}: --cfg-options {key}: unknown key '{part}'{did_you_mean(part, known)}")


def _keyword_arguments(obj_type) -> Optional[set]:
    """The keyword arguments the classes registered as ``obj_type`` take, or None when any may be
    given (``**kwargs``) or the type is not found."""
    from ..plugins import load_plugins
    from ..registry import registered_objects

    load_plugins()
    objects = [obj_type] if not isinstance(obj_type, str) else registered_objects(obj_type)
    params: set = set()
    for obj in objects:
        try:
            signature = inspect.signature(obj)
        except (TypeError, ValueError):
            return None
        if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            return None
        params |= set(signature.parameters)
    return params or None


def _typed_entries(node, path: str = ""):
    """(key path, type name) of every ``dict(type='Name', ...)`` in a config tree."""
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            yield path or "(top level)", node["type"]
        for key, value in node.items():
            yield from _typed_entries(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _typed_entries(value, f"{path}[{i}]")


def check_types(cfg, config: Path) -> None:
    """Refuse a config naming a type that no registry knows, before anything is built."""
    from ..registry import did_you_mean, registered_names

    known = registered_names()
    for path, name in _typed_entries(cfg.to_dict()):
        if "." not in name and name not in known:
            raise MatbenchError(f"{config}: {path}: unknown type '{name}'{did_you_mean(name, known)}")


#: counts of a training schedule that must be whole numbers of at least 1
_SCHEDULE_COUNTS = ("max_iters", "max_epochs", "val_interval", "val_begin")


def check_schedule(cfg, config: Path) -> None:
    """Refuse a schedule that would train nothing or loop oddly (``max_iters=-5`` ran as a silent
    no-op), before anything is built."""
    train_cfg = cfg.get("train_cfg") or {}
    for key in _SCHEDULE_COUNTS:
        value = train_cfg.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise MatbenchError(f"{config}: train_cfg.{key}={value!r}: expected a whole number of 1 or more")
