"""Plugin discovery through the `matbench.plugins` entry-point group, and the plugin index.

Importing every plugin takes seconds (some import torch), so the first command that does it writes
an index of what each plugin registered: the names, the rows of `matbench list` and the warnings
of the plugins that failed. Later commands read it and import only the plugins that provide the
names they use (:func:`load_plugins_for`); `matbench list` imports none. The index belongs to the
exact installation that wrote it (:func:`_installation_key`): any other is stale, and the command
imports every plugin as if there were none, and writes a new one.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
import tempfile
import warnings
from dataclasses import astuple, dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Iterable, NamedTuple

from . import DISTRIBUTION, __version__
from .errors import MatbenchError, PluginWarning

ENTRY_POINT_GROUP = "matbench.plugins"
#: changes when the index file's layout does
INDEX_FORMAT = 1

_loaded: dict[str, str] = {}     # module name -> distribution that declared it
_failed: dict[str, str] = {}     # plugins that could not be imported -> their warning
#: plugin module -> {(kind, name): id of the object} its import added to the registries
_provided: dict[str, dict[tuple[str, str], int]] = {}
_complete = False                # every plugin was imported
_importing = False               # load_plugins() is running (a plugin may look a name up)
_warned: set[str] = set()
_cached: dict[str, Any] = {}     # "plugins", "key", "index": worked out once per process


class Plugin(NamedTuple):
    entry: str                   # the entry point's name
    value: str                   # "module" or "module:attr"
    module: str                  # what is imported
    dist: str
    version: str


def _plugins() -> list[Plugin]:
    """Every declared plugin, in the order they are imported: matbench's own first (so their
    names are taken before any third party's: a plugin registering one of them is the one left
    out), then the others by entry-point name."""
    if "plugins" not in _cached:
        dists: dict[int, tuple[str, str]] = {}
        plugins = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(ep, "dist", None)
            if dist is not None and id(dist) not in dists:      # each reads its METADATA file
                dists[id(dist)] = (dist.name, dist.version)
            name, version = dists.get(id(dist), ("?", "?"))
            plugins.append(Plugin(ep.name, ep.value, ep.value.split(":")[0].strip(), name, version))
        _cached["plugins"] = sorted(plugins, key=lambda p: (not _first_party(p), p.entry, p.dist))
    return _cached["plugins"]


def _first_party(plugin: Plugin) -> bool:
    """Whether a plugin is declared by matbench's own distribution."""
    from . import DISTRIBUTION

    return _normalized(plugin.dist) == _normalized(DISTRIBUTION)


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_plugins() -> list[tuple[str, str]]:
    """(distribution, version) of every distribution that declares a plugin, from its metadata:
    no plugin is imported."""
    return sorted({(p.dist, p.version) for p in _plugins() if p.dist != "?"})


def load_plugins() -> dict[str, str]:
    """Import every plugin module once; returns {module: distribution}.

    A plugin that fails to import (any exception, a name another package already registered
    among them) is left out with one :class:`PluginWarning` naming it — and for a clash the
    package that has the name — and whatever it registered before failing is removed: the other
    plugins keep working. Writes the plugin index when the installation's one is missing or stale."""
    global _complete, _importing
    if _complete or _importing:
        return _loaded
    _importing = True
    try:
        for plugin in _plugins():
            _import(plugin)
    finally:
        _importing = False
    _complete = True
    _save_index()
    return _loaded


def load_plugins_for(registry: Any, name: str) -> None:
    """Make `name` available in `registry`, importing only what the plugin index says registers
    it — no plugin when none does (the caller then reports an unknown name, see
    :func:`known_names`). Without a valid index, or when the index does not hold, every plugin."""
    if _complete:
        return
    kind = _kind(registry)
    index = _index() if kind is not None else None
    if index is None:
        load_plugins()
        return
    provider = index["names"].get(kind, {}).get(name)
    if provider is None:
        if "." in name:         # "scope.name" or a dotted path: resolved as always, after every plugin
            load_plugins()
        return
    if name in registry.module_dict:
        return
    if not _import_provider(provider) or name not in registry.module_dict:
        _cached["index_failed"] = True      # the index does not hold here: start over, and rewrite it
        load_plugins()


def load_plugins_of(registry: Any) -> None:
    """Import every plugin that registers anything in `registry` (e.g. all metric variants, to
    find the default one), and no other when the index is valid."""
    kind = _kind(registry)
    index = _index() if kind is not None and not _complete else None
    if index is None:
        load_plugins()
        return
    for name in index["names"].get(kind, {}):
        load_plugins_for(registry, name)


def known_names(registry: Any) -> list[str]:
    """The names `registry` offers, for an "unknown name" error: the plugin index's when it is
    valid (with the warnings of the plugins that failed: the name may be theirs), else every
    plugin's, imported."""
    kind = _kind(registry)
    index = _index() if kind is not None and not _complete else None
    if index is None:
        load_plugins()
        return sorted(registry.module_dict)
    _warn_failed(index)
    return sorted(set(index["names"].get(kind, {})) | set(registry.module_dict))


def _import(plugin: Plugin) -> bool:
    if plugin.module in _loaded:
        return True
    if plugin.module in _failed:
        return False
    before = _registered_objects()
    try:
        importlib.import_module(plugin.module)
        _refuse_replacements(before)
    except Exception as exc:  # noqa: BLE001 - a third party's bug must not break matbench
        _unregister(plugin.module)
        _restore(before)
        _failed[plugin.module] = (f"plugin '{plugin.entry}' ({plugin.module}, from {plugin.dist}) "
                                  f"not loaded: {_reason(exc)}")
        _warn(_failed[plugin.module])
        return False
    _loaded[plugin.module] = plugin.dist
    _provided[plugin.module] = {k: i for k, i in _registered_ids().items() if k not in before}
    return True


def _import_provider(module: str) -> bool:
    plugin = next((p for p in _plugins() if p.module == module), None)
    if plugin is not None:
        return _import(plugin)
    importlib.import_module(module)        # a module of matbench's own that registers a name
    return True


def _warn(text: str) -> None:
    if text not in _warned:
        _warned.add(text)
        warnings.warn(text, PluginWarning, stacklevel=4)


def _warn_failed(index: dict) -> None:
    for text in index["failed"]:
        _warn(text)


def _registered_objects() -> dict[tuple[str, str], Any]:
    from .registry import REGISTRIES

    return {(kind, name): obj for kind, registry in REGISTRIES.items()
            for name, obj in registry.module_dict.items()}


def _refuse_replacements(before: dict[tuple[str, str], Any]) -> None:
    """A plugin may add names, never replace one already registered (``force=True``)."""
    from .registry import REGISTRIES

    for (kind, name), obj in before.items():
        now = REGISTRIES[kind].module_dict.get(name)
        if now is not obj:
            owner = getattr(obj, "__module__", "?")
            raise MatbenchError(f"{name} is already registered in {kind} at {owner}")


def _restore(before: dict[tuple[str, str], Any]) -> None:
    """Put back what a failed plugin replaced or removed."""
    from .registry import REGISTRIES

    for (kind, name), obj in before.items():
        REGISTRIES[kind]._module_dict[name] = obj


def _registered_ids() -> dict[tuple[str, str], int]:
    from .registry import REGISTRIES

    return {(kind, name): id(obj) for kind, registry in REGISTRIES.items()
            for name, obj in registry.module_dict.items()}


def _kind(registry: Any) -> str | None:
    from .registry import REGISTRIES

    return next((kind for kind, r in REGISTRIES.items() if r is registry), None)


def _reason(exc: Exception) -> str:
    # a KeyError's str() is its key's repr: the key itself reads better
    message = str(exc.args[0]) if isinstance(exc, KeyError) and len(exc.args) == 1 else str(exc)
    text = (message.strip().splitlines() or [type(exc).__name__])[0]
    clash = re.search(r"(\S+) is already registered in (\w+) at ([\w.]+)", text)
    if clash:
        name, kind, owner = clash.groups()
        owner_dist = next((d for m, d in _loaded.items() if m.split(".")[0] == owner.split(".")[0]),
                          owner.split(".")[0])
        return f"its {kind} '{name}' is already registered by {owner_dist} ({owner})"
    return f"{type(exc).__name__}: {text}"


def _unregister(module: str) -> None:
    """Remove what `module` (a plugin that failed half-way) registered."""
    from .registry import REGISTRIES

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


#: the kinds a user chooses from (`matbench list KIND`); "training" lists the training pieces,
#: "transforms" the data transforms among them
CHOICES = ("models", "datasets", "strategies", "metrics", "references")
_LISTED = (*CHOICES, "training")
_KINDS = (*_LISTED, "transforms")


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
    return first_sentence(getattr(obj, "__doc__", None) or "")


def first_sentence(doc: str) -> str:
    """The first sentence of a docstring as plain text: reStructuredText roles and literals
    unwrapped (``:func:`x``` and ````x```` are ``x``), never cut inside parentheses."""
    text = " ".join(doc.split("\n\n")[0].split())
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", text)
    text = re.sub(r"``([^`]+)``", r"\1", text).replace("`", "")
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth <= 0 and char == "." and (i + 1 == len(text) or text[i + 1] == " ") and i and text[i - 1] != ".":
            return text[:i].strip()
    return text.strip().rstrip(".")


def model_kind(cls: object) -> str | None:
    """"trimap-based", "network (automatic)" or "network (trimap-based)" for what a user evaluates;
    None for training pieces and prediction sources.

    Every ``torch.nn.Module`` registered as a model is a network (its ``output_names``,
    ``default_strategy`` and the rest are optional) unless it says otherwise with
    ``evaluable = False`` (a loss, a backbone) or is an mmengine ``BaseModel`` (a training
    wrapper)."""
    from .models import TrimapMattingModel

    if not isinstance(cls, type) or getattr(cls, "evaluable", True) is False:
        return None
    if issubclass(cls, TrimapMattingModel):
        return "trimap-based"
    torch = sys.modules.get("torch")
    if torch is None or not issubclass(cls, torch.nn.Module):
        return None
    if any(base.__name__ == "BaseModel" and base.__module__.startswith("mmengine") for base in cls.__mro__):
        return None
    inputs = tuple(getattr(cls, "inputs", ("image",)))
    return f"network ({'trimap-based' if 'trimap' in inputs else 'automatic'})"


#: the bases of what the evaluation makes predictions with (not models a user chooses); not
#: imported here (predictors imports torch): a subclass has imported its base's module
_PREDICTION_SOURCES = (("matbench.evaluation.sources", "PredictionSource"),
                       ("matbench.evaluation.predictors", "Predictor"))


def _is_prediction_source(cls: object) -> bool:
    bases = [getattr(sys.modules.get(module), name, None) for module, name in _PREDICTION_SOURCES]
    return isinstance(cls, type) and any(isinstance(b, type) and issubclass(cls, b) for b in bases)


def _is_test_set(cls: object) -> bool:
    from .datasets import MattingDataset

    return isinstance(cls, type) and issubclass(cls, MattingDataset)


def registered(kind: str | None = None) -> list[PluginInfo]:
    """Every registered plugin a user chooses from (optionally of one kind), with the package it
    came from; ``kind="training"``: losses, training models and datasets, transforms. Read from
    the plugin index when it is valid: no plugin is imported."""
    if kind is not None and kind not in _KINDS:
        raise MatbenchError(f"unknown plugin kind '{kind}' (known: {', '.join(_KINDS)})")
    index = None if _complete else _index()
    if index is None:
        load_plugins()
        rows = _rows(None)
    else:
        _warn_failed(index)
        rows = [PluginInfo(*row) for row in index["rows"]]
    if kind == "transforms":          # the training pieces registered as transforms
        from .registry import TRANSFORMS

        load_plugins_of(TRANSFORMS)
        return _sorted([r for r in rows if r.kind == "training" and r.name in TRANSFORMS.module_dict])
    return _sorted([r for r in rows if kind is None or r.kind == kind])


def _rows(kind: str | None) -> list[PluginInfo]:
    """The rows of what is registered now."""
    from .registry import REGISTRIES

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
            package = next((d for m, d in _loaded.items() if m.split(".")[0] == top),
                           DISTRIBUTION if top == "matbench" else top)
            rows.append(PluginInfo(shown_as, name, module, package, what))
    return _sorted(rows)


def _sorted(rows: list[PluginInfo]) -> list[PluginInfo]:
    return sorted(rows, key=lambda r: (_LISTED.index(r.kind), r.name.lower()))


# --------------------------------------------------------------------------- the plugin index

def cache_dir() -> Path | None:
    """matbench's cache folder (the plugin index, the embedded dataset): ``$MATBENCH_CACHE``,
    else ``$XDG_CACHE_HOME/matbench``, else ``~/.cache/matbench``; None without a home folder."""
    if os.environ.get("MATBENCH_CACHE"):
        return Path(os.environ["MATBENCH_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg) / "matbench"
    try:
        return Path.home() / ".cache" / "matbench"
    except RuntimeError:        # no home directory to be found
        return None


def index_path() -> Path | None:
    """The index file of this Python environment and matbench (others, e.g. other virtual
    environments sharing the cache folder, keep theirs)."""
    folder = cache_dir()
    if folder is None:
        return None
    here = hashlib.sha256(f"{sys.prefix}\0{Path(__file__).parent}".encode()).hexdigest()[:16]
    return folder / f"plugin-index-{here}.json"


def _index() -> dict | None:
    """This installation's index; None when there is none, it is stale or unreadable, or the
    installation cannot be fingerprinted."""
    if "index" not in _cached:
        key = _installation_key()
        _cached["index"] = None if key is None else _read_index(key)
    return _cached["index"]


def _read_index(key: str) -> dict | None:
    path = index_path()
    try:
        doc = json.loads(path.read_text(encoding="utf-8")) if path is not None else None
    except (OSError, ValueError):
        return None
    return doc if _well_formed(doc) and doc["key"] == key else None


def _well_formed(doc: Any) -> bool:
    # (its registry kinds are registry.py's, whose source is part of the key)
    try:
        return (doc["format"] == INDEX_FORMAT and isinstance(doc["key"], str)
                and all(isinstance(names, dict) for names in doc["names"].values())
                and all(isinstance(n, str) and isinstance(m, str)
                        for names in doc["names"].values() for n, m in names.items())
                and all(len(r) == 5 and all(isinstance(f, str) for f in r) and r[0] in _LISTED
                        for r in doc["rows"])
                and all(isinstance(t, str) for t in doc["failed"]))
    except (KeyError, TypeError, AttributeError):
        return False


def _save_index() -> None:
    """After every plugin was imported: write what they registered when the index is missing,
    stale, or did not hold in this process. Not when something else registered a name (a user's
    script before calling :func:`load_plugins`): that is this process's, not the installation's."""
    key = _installation_key()
    if key is None or (_index() is not None and not _cached.get("index_failed")):
        return
    doc = _index_of_this_process(key)
    if doc is not None:
        _write_atomically(index_path(), doc)
        _remember_providers()


def _providers_path() -> Path | None:
    path = index_path()
    return path.with_name(path.name.replace("plugin-index-", "plugin-history-")) if path is not None else None


def _remember_providers() -> None:
    """Keep, in the cache, which distribution registered each name (every installation this
    environment had): a name whose plugin was uninstalled since is then an error that says so."""
    path = _providers_path()
    history = _read_history()
    for kind, name, module, package, _what in (astuple(row) for row in _rows(None)):
        history.setdefault(kind, {})[name] = package
    _write_atomically(path, history)


def _read_history() -> dict:
    path = _providers_path()
    try:
        doc = json.loads(path.read_text(encoding="utf-8")) if path is not None else {}
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) and all(isinstance(v, dict) for v in doc.values()) else {}


def package_of(obj: object) -> str | None:
    """The plugin distribution (name and version) whose code defines ``obj``, for results files."""
    top = (getattr(obj, "__module__", None) or "").split(".")[0]
    dist = next((d for m, d in _loaded.items() if m.split(".")[0] == top), None)
    if dist is None:
        return None
    version = next((v for name, v in installed_plugins() if name == dist), None)
    return f"{dist} {version}" if version else dist


def missing_provider(kind: str, name: str) -> str | None:
    """The distribution that registered ``name`` (of ``kind``: models, datasets, strategies,
    metrics, references) in this environment before and is no longer installed, if any."""
    package = _read_history().get(kind, {}).get(name)
    if not isinstance(package, str):
        return None
    installed = {_normalized(dist) for dist, _ in installed_plugins()}
    return None if _normalized(package) in installed else package


def _index_of_this_process(key: str) -> dict | None:
    from .registry import REGISTRIES

    names: dict[str, dict[str, str]] = {}
    for kind, registry in REGISTRIES.items():
        names[kind] = {}
        for name, obj in registry.module_dict.items():
            provider = _provider(kind, name, obj)
            if provider is None:
                return None
            names[kind][name] = provider
    return {"format": INDEX_FORMAT, "key": key, "names": names,
            "rows": [list(astuple(row)) for row in _rows(None)],
            "failed": list(_failed.values())}


def _provider(kind: str, name: str, obj: object) -> str | None:
    """The module to import to register `name`: the plugin that defines it (a plugin importing
    another one, e.g. for shared constants, must not make `name` its own: importing it would
    cost the other's imports); else the plugin whose import registered it; for what matbench
    itself registers, the module that defines it; else None (a user's script)."""
    defined_in = getattr(obj, "__module__", None) or ""
    registered_by = [module for module in _loaded if _provided.get(module, {}).get((kind, name)) == id(obj)]
    if not registered_by:
        return defined_in if defined_in.split(".")[0] == "matbench" else None
    owner = next((module for module in _loaded if defined_in == module or defined_in.startswith(module + ".")),
                 None)
    return owner or registered_by[0]


def _write_atomically(path: Path | None, doc: dict) -> None:
    """Write `doc` as JSON; a cache that cannot be written only costs the next command its speed."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except (OSError, ValueError):
        pass


class _Unfingerprintable(Exception):
    """A package that is not a folder or a file of its own (in a zip file, frozen, ...)."""


def _installation_key() -> str | None:
    """What the index depends on: matbench's version and source files, the Python version, every
    plugin entry point (name, value, distribution and version), the source and data files of
    every plugin's top-level package, and the names (versions included) of the installed
    distributions, so that installing a plugin's missing dependency retries it. None when a
    package cannot be fingerprinted: then every command imports every plugin."""
    if "key" not in _cached:
        plugins = _plugins()
        try:
            packages = {top: _package_stamp(top)
                        for top in sorted({"matbench", *(p.module.split(".")[0] for p in plugins)})}
        except (_Unfingerprintable, OSError):       # OSError: a file went away while stamped
            _cached["key"] = None
        else:
            parts = [INDEX_FORMAT, __version__, sys.version, sys.platform, [list(p) for p in plugins],
                     packages, _distributions()]
            _cached["key"] = hashlib.sha256(json.dumps(parts).encode()).hexdigest()
    return _cached["key"]


def source_digest(objects: Iterable[object]) -> str | None:
    """A digest of the files (path, size, content hash) of matbench and of the top-level packages that
    define `objects` (classes or instances): what a result computed by them depends on besides
    the versions, which an edited plugin need not change. None where a package cannot be
    fingerprinted (see :func:`_package_stamp`)."""
    tops = {"matbench", *(getattr(o, "__module__", None) or "" for o in objects if o is not None)}
    try:
        stamps = {top: _package_stamp(top) for top in sorted({t.split(".")[0] for t in tops if t})}
    except (_Unfingerprintable, OSError):
        return None
    return hashlib.sha256(json.dumps(stamps).encode()).hexdigest()[:16]


#: what a package's behaviour comes from: its Python files (source, bytecode, extensions) and
#: JSON data (reference files)
_STAMPED = (".json", *importlib.machinery.all_suffixes())


def _package_stamp(top: str) -> list | None:
    """Where the top-level package `top` is found and (path, size, content hash) of its files; None
    when it is not installed (its plugin fails, and the index says so)."""
    try:
        spec = importlib.util.find_spec(top)
    except Exception as exc:  # noqa: BLE001 - whatever an import hook raises, do not guess
        raise _Unfingerprintable(top) from exc
    if spec is None:
        return None
    folders = list(spec.submodule_search_locations or [])
    if not folders:             # a single-file module
        if spec.origin and os.path.isfile(spec.origin):
            return [spec.origin, _file_stamp(spec.origin)]
        raise _Unfingerprintable(top)
    if not all(os.path.isdir(folder) for folder in folders):
        raise _Unfingerprintable(top)
    # a namespace package: every portion (a new one elsewhere on sys.path changes the list)
    return [[folder, _tree_stamp(folder)] for folder in folders]


def _file_stamp(path: str) -> list:
    """A file's size and content hash: what the code in it is (an edit that keeps the size and
    the modification time, e.g. restored by ``cp -p``, still changes the hash)."""
    with open(path, "rb") as f:
        data = f.read()
    return [len(data), hashlib.sha256(data).hexdigest()[:16]]


def _tree_stamp(root: str) -> list:
    found, seen = [], set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:        # a symbolic link back up the tree
            subfolders[:] = []
            continue
        seen.add(real)
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__" and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(_STAMPED):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):      # a dangling link
                    found.append([os.path.relpath(path, root), *_file_stamp(path)])
    return found


def _distributions() -> list:
    """The installed distributions' metadata folders (name-version) on sys.path, with their
    mtimes (a reinstall); the current folder is left out (each folder a command starts in
    would be an installation of its own)."""
    try:
        here = {"", os.getcwd()}
    except OSError:             # the folder was removed under the command
        here = {""}
    found = []
    for entry in dict.fromkeys(sys.path):
        if entry in here or not os.path.isdir(entry):
            continue
        with contextlib.suppress(OSError):
            for item in os.scandir(entry):
                if item.name.endswith((".dist-info", ".egg-info", ".egg-link", ".pth")):
                    found.append([entry, item.name, item.stat().st_mtime_ns])
    return sorted(found)
