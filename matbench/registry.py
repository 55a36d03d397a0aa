"""The six plugin registries, children of mmengine's so configs build across both; and children
of mmengine's runner registries (hooks, loops, optimizers, ...) so that a Runner with
``default_scope='matbench'`` finds mmengine's own components through the 'matbench' scope."""
from __future__ import annotations

import difflib
import inspect
from typing import Any, Iterable

from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

from .errors import MatbenchError

class PluginRegistry(Registry):
    """mmengine's Registry whose ``get`` first imports the plugin that registers the name (by the
    plugin index, :func:`matbench.plugins.load_plugins_for`): ``METRICS.get("aim")`` in a plugin,
    a script or a config works before any plugin was loaded, as :func:`lookup` does."""

    def get(self, key: str) -> Any:
        if isinstance(key, str) and key not in self._module_dict:
            from .plugins import load_plugins_for

            load_plugins_for(self, key)
        return super().get(key)

MODELS = PluginRegistry("model", parent=MMENGINE_MODELS, scope="matbench")
DATASETS = PluginRegistry("dataset", parent=MMENGINE_DATASETS, scope="matbench")
METRICS = PluginRegistry("metric", parent=MMENGINE_METRICS, scope="matbench")
TRANSFORMS = PluginRegistry("transform", parent=MMENGINE_TRANSFORMS, scope="matbench")
STRATEGIES = PluginRegistry("strategy", scope="matbench")
#: published results: loaders of reference files (:mod:`matbench.leaderboard.references`)
REFERENCES = PluginRegistry("reference", scope="matbench")


def _runner_children() -> dict[str, Registry]:
    from mmengine import registry as mm

    names = ("RUNNERS", "RUNNER_CONSTRUCTORS", "LOOPS", "HOOKS", "LOG_PROCESSORS", "OPTIMIZERS",
             "OPTIM_WRAPPERS", "OPTIM_WRAPPER_CONSTRUCTORS", "PARAM_SCHEDULERS", "DATA_SAMPLERS",
             "FUNCTIONS", "VISUALIZERS", "VISBACKENDS", "EVALUATOR", "WEIGHT_INITIALIZERS",
             "MODEL_WRAPPERS", "TASK_UTILS", "INFERENCERS", "STRATEGIES")
    return {n: Registry(getattr(mm, n).name, parent=getattr(mm, n), scope="matbench") for n in names}


#: matbench's children of mmengine's runner registries (``HOOKS`` takes matbench's hooks)
RUNNER_REGISTRIES = _runner_children()
HOOKS = RUNNER_REGISTRIES["HOOKS"]
DATA_SAMPLERS = RUNNER_REGISTRIES["DATA_SAMPLERS"]
OPTIM_WRAPPERS = RUNNER_REGISTRIES["OPTIM_WRAPPERS"]

#: The kinds `matbench list` shows, in order.
REGISTRIES: dict[str, Registry] = {
    "models": MODELS,
    "datasets": DATASETS,
    "strategies": STRATEGIES,
    "metrics": METRICS,
    "transforms": TRANSFORMS,
    "references": REFERENCES,
}


def lookup(registry: Registry, name: str) -> Any:
    """The object registered under `name`, or a one-line error with a "did you mean". Imports only
    the plugin that registers `name` when the plugin index knows it (:mod:`matbench.plugins`)."""
    from .plugins import known_names, load_plugins_for

    load_plugins_for(registry, name)
    # its own names first: Registry.get logs what it found through mmengine's logger, which imports torch
    obj = registry.module_dict.get(name)
    if obj is None:
        obj = registry.get(name)        # a parent's name, "scope.name", a dotted path
    if obj is not None:
        return obj
    names = known_names(registry)
    if registry is MODELS:              # what a user chooses from, not losses and internal wrappers
        from .plugins import registered

        listed = {row.name for row in registered("models")}
        names = [n for n in names if n in listed]
    from .plugins import missing_provider

    kind = next((k for k, r in REGISTRIES.items() if r is registry), "")
    gone = missing_provider(kind, name)
    if gone:
        raise MatbenchError(f"unknown {registry.name} '{name}': it came from the package {gone}, which is no longer "
                            f"installed (pip install {gone})")
    raise MatbenchError(f"unknown {registry.name} '{name}'{did_you_mean(name, names)} "
                        f"(known: {', '.join(names) or 'none'})")


def did_you_mean(name: str, names: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the closest of `names` (or one differing only in case), else ``""``."""
    names = sorted(names)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    if not close:
        lowered = {n.lower(): n for n in names}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    return f"; did you mean '{close[0]}'?" if close else ""


def _hierarchy(registry: Registry) -> list[Registry]:
    chain = []
    while registry is not None:
        chain.append(registry)
        registry = registry.parent
    return chain


def registered_names() -> set[str]:
    """Every name registered in matbench's registries and their mmengine ancestors (mmengine's
    components register when their packages are imported: done here)."""
    import mmengine.dataset  # noqa: F401
    import mmengine.evaluator  # noqa: F401
    import mmengine.hooks  # noqa: F401
    import mmengine.model  # noqa: F401
    import mmengine.optim  # noqa: F401
    import mmengine.runner  # noqa: F401
    import mmengine.visualization  # noqa: F401

    return {name for reg in (*REGISTRIES.values(), *RUNNER_REGISTRIES.values())
            for level in _hierarchy(reg) for name in level.module_dict}


def registered_objects(name: str) -> list[Any]:
    """The distinct objects registered as `name` in any of matbench's registries or their mmengine
    ancestors (a config's ``type='name'``)."""
    registered_names()                  # imports mmengine's components, which register on import
    found = {}
    for reg in (*REGISTRIES.values(), *RUNNER_REGISTRIES.values()):
        for level in _hierarchy(reg):
            obj = level.module_dict.get(name)
            if obj is not None:
                found[id(obj)] = obj
    return list(found.values())


def build(registry: Registry, cfg: dict) -> Any:
    """Build `cfg` (a dict with `type`) from `registry`, with one-line errors for an unknown type
    and for options the constructor does not take or that have the wrong kind of value."""
    cfg = dict(cfg)
    obj_type = cfg.pop("type")
    cls = lookup(registry, obj_type) if isinstance(obj_type, str) else obj_type
    cfg = check_options(cls, cfg, str(obj_type if isinstance(obj_type, str) else getattr(cls, "__name__", cls)))
    return cls(**cfg)


def _parameters(cls: Any) -> tuple[dict[str, inspect.Parameter], bool]:
    """The keyword parameters ``cls(...)`` accepts, following ``**kwargs`` up the base classes'
    constructors; and whether it accepts any keyword at all (``**kwargs`` nobody consumes)."""
    params: dict[str, inspect.Parameter] = {}
    chain = cls.__mro__ if isinstance(cls, type) else (cls,)
    for klass in chain:
        target = klass.__init__ if isinstance(cls, type) else klass
        if isinstance(cls, type) and "__init__" not in vars(klass):
            continue
        try:
            signature = inspect.signature(target)
        except (TypeError, ValueError):
            return params, True
        for name, param in signature.parameters.items():
            if name != "self" and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                params.setdefault(name, param)
        if not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
            return params, False
        if klass is object or not isinstance(cls, type):
            break
    return params, not isinstance(cls, type) or chain[-1] is not object


def check_options(cls: Any, options: dict, what: str) -> dict:
    """Refuse options ``cls`` does not take ("did you mean") and text where its default is a
    number or a flag, before anything is built; returns the options with a single text given
    where the default is a tuple or list of texts made a one-element tuple (``image_exts=.jpg``
    is ``('.jpg',)``, not the characters of '.jpg')."""
    params, open_ended = _parameters(cls)
    options = dict(options)
    for key, value in options.items():
        if key not in params:
            if not open_ended:
                raise MatbenchError(f"{what}: unknown option '{key}'{did_you_mean(key, params)} "
                                    f"(known: {', '.join(sorted(params)) or 'none'})")
            continue
        default = params[key].default
        if isinstance(default, bool) and not isinstance(value, bool):
            raise MatbenchError(f"{what}: option {key}={value!r} should be True or False")
        if isinstance(default, (int, float)) and not isinstance(default, bool) and (
                isinstance(value, (str, bool)) or value is None and default is not None):
            raise MatbenchError(f"{what}: option {key}={value!r} should be a number (default {default})")
        if isinstance(default, (tuple, list)) and default and all(isinstance(v, str) for v in default):
            if isinstance(value, str):
                options[key] = (value,)
            elif not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
                raise MatbenchError(f"{what}: option {key}={value!r} should be a text or a tuple of texts "
                                    f"(default {default!r})")
    return options
