"""Reading a suite (an mmengine config) and checking all of it before any work: the entries'
keys, labels and folder names, the plugins and their options, the data roots. Every problem is
one line naming the suite and the entry (``suite.py: runs[2] ('my net'): ...``)."""
from __future__ import annotations

import ast
import difflib
import hashlib
import inspect
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from ..errors import MatbenchError
from ..registry import did_you_mean

#: the suite's own top-level names; any other name is a helper variable of the config
SUITE_KEYS = ("datasets", "runs", "work_dir")
DATASET_KEYS = ("name", "key", "data_root", "options", "variant")
RUN_KEYS = ("label", "model", "model_options", "strategy", "strategy_options", "checkpoint", "random_weights",
            "amp", "channels_last", "predictions", "datasets")
#: the keys only a model's run takes (a predictions folder is scored as it is)
MODEL_ONLY = ("model_options", "strategy", "strategy_options", "checkpoint", "random_weights", "amp",
              "channels_last")
#: what a run's folder may not be called: the dataset report's pictures go there
RESERVED_RUN_SLUGS = ("report_files",)
#: where ``predictions`` as one text names the dataset
DATASET_FIELD = "{dataset}"


def slug(text: str) -> str:
    """The folder name of a label or dataset key: lower case, runs of anything but letters,
    digits and ``_`` made one ``-`` ("My net 1/3" -> "my-net-1-3"); no dots, so a
    label can never name ``..``."""
    return re.sub(r"[^a-z0-9_]+", "-", str(text).lower()).strip("-_")


@dataclass
class DatasetEntry:
    """One test set of the suite."""

    key: str                      # its name in the suite: W/<slug>/, the keys of predictions mappings
    name: str                     # the dataset plugin
    data_root: Optional[str]
    options: dict
    variant: Optional[str]        # None: the set's own convention
    index: int                    # its position in ``datasets``
    slug: str = ""
    #: the metric variant it is scored with (resolved)
    resolved_variant: str = ""

    @property
    def where(self) -> str:
        return f"datasets[{self.index}] ('{self.key}')"


@dataclass
class RunEntry:
    """One method of the suite: a model (with its strategy and weights) or predictions folders."""

    label: str
    index: int
    model: Optional[str] = None
    model_options: dict = field(default_factory=dict)
    strategy: Optional[str] = None
    strategy_options: dict = field(default_factory=dict)
    checkpoint: Optional[str] = None
    random_weights: bool = False
    amp: Optional[str] = None
    channels_last: bool = False
    #: dataset key -> folder (a predictions run)
    predictions: Optional[dict] = None
    #: the dataset keys the run covers
    datasets: list = field(default_factory=list)
    slug: str = ""

    @property
    def where(self) -> str:
        return f"runs[{self.index}] ('{self.label}')"


@dataclass
class Pair:
    """One (run, dataset) evaluation of the suite, into ``W/<dataset slug>/<run slug>/``."""

    dataset: DatasetEntry
    run: RunEntry
    #: why the pair is not evaluated (a predictions run without a folder for this dataset), else None
    skip: Optional[str] = None

    @property
    def name(self) -> str:
        return f"{self.dataset.key} / {self.run.label}"

    @property
    def folder(self) -> str:
        return f"{self.dataset.slug}/{self.run.slug}"

    def evaluate_kwargs(self) -> dict:
        """The arguments of :func:`matbench.evaluate` that define this pair (not where it goes or
        what it runs on)."""
        d, r = self.dataset, self.run
        kwargs: dict[str, Any] = {"dataset": d.name, "data_root": d.data_root, "dataset_options": dict(d.options),
                                  "metric_variant": d.variant}
        if r.predictions is not None:
            kwargs["predictions"] = r.predictions[d.key]
        else:
            kwargs.update(model=r.model, model_options=dict(r.model_options), strategy=r.strategy,
                          strategy_options=dict(r.strategy_options), checkpoint=r.checkpoint,
                          random_weights=r.random_weights, amp=r.amp, channels_last=r.channels_last)
        return kwargs

    def definition(self) -> dict:
        """What the pair's results depend on, paths resolved, as JSON: the suite record keeps it,
        and a pair whose definition changed since is computed again from scratch."""
        kwargs = self.evaluate_kwargs()
        for key in ("data_root", "predictions", "checkpoint"):
            if kwargs.get(key):
                kwargs[key] = os.path.realpath(kwargs[key])
        return json.loads(json.dumps(kwargs, sort_keys=True, default=str))


@dataclass
class Suite:
    """A checked suite: its datasets, runs and the pairs to evaluate, in order (dataset by
    dataset, each with the runs in the suite's order)."""

    path: Optional[Path]
    datasets: list
    runs: list
    pairs: list
    work_dir: Optional[str] = None
    #: SHA-256 of the suite file's bytes (None for a config given as a dict)
    file_sha256: Optional[str] = None
    #: SHA-256 of the resolved config (its ``_base_`` files included)
    config_sha256: str = ""


class _Checker:
    """Raises one-line errors prefixed with the suite's name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, problem: str) -> MatbenchError:
        return MatbenchError(f"{self.name}: {where + ': ' if where else ''}{problem}")

    def keys(self, entry: Any, allowed: tuple, where: str, what: str) -> dict:
        if not isinstance(entry, Mapping):
            raise self.fail(where, f"expected a dict(...) describing a {what}, got {entry!r}")
        for key in entry:
            if key not in allowed:
                raise self.fail(where, f"unknown key '{key}'{did_you_mean(str(key), allowed)} "
                                       f"(a {what} takes: {', '.join(allowed)})")
        return dict(entry)

    def text(self, value: Any, where: str, key: str, optional: bool = True) -> Optional[str]:
        if value is None and optional:
            return None
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"{key} should be a non-empty text, got {value!r}")
        return value

    def flag(self, value: Any, where: str, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"{key} should be True or False, got {value!r}")
        return value

    def options(self, value: Any, where: str, key: str) -> dict:
        """Plugin options: a dict of plain Python literals (they travel as ``KEY=VALUE`` texts)."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(where, f"{key} should be a dict(...) of options, got {value!r}")
        for k, v in value.items():
            if not isinstance(k, str) or not k.isidentifier():
                raise self.fail(where, f"{key}: option name {k!r} is not a keyword")
            if k == "type":
                raise self.fail(where, f"{key}: 'type' is not an option (the plugin is chosen by its own key)")
            try:
                same = ast.literal_eval(repr(v)) == v
            except (ValueError, SyntaxError, TypeError):
                same = False
            if not same:
                raise self.fail(where, f"{key}: option {k}={v!r} is not a plain value (number, text, "
                                       "True/False/None, or a list, tuple or dict of them)")
        return dict(value)


def _plugin_and_options(check: _Checker, value: Any, options: Any, where: str, key: str) -> tuple:
    """``model='MyNet'`` or mmengine's ``model=dict(type='MyNet', ...)`` with ``model_options``:
    the plugin's name and its options (an option given in both places is refused)."""
    extra = check.options(options, where, f"{key}_options")
    if isinstance(value, Mapping):
        inline = {k: v for k, v in value.items() if k != "type"}
        if "type" not in value:
            raise check.fail(where, f"{key}=dict(...) needs type='...' (the {key} plugin)")
        inline = check.options(inline, where, key)
        both = sorted(set(inline) & set(extra))
        if both:
            raise check.fail(where, f"option '{both[0]}' given both in {key}=dict(...) and in {key}_options")
        value, extra = value["type"], {**inline, **extra}
    return check.text(value, where, key), extra


def read_config(source: Union[str, os.PathLike, Mapping]) -> tuple[dict, Optional[Path], Optional[str]]:
    """The suite's config as a plain dict, its file and the file's SHA-256."""
    if isinstance(source, Mapping):
        return dict(source), None, None
    path = Path(source)
    if not path.is_file():
        raise MatbenchError(f"{path}: suite file not found" if not path.exists() else f"{path}: not a file")
    from mmengine.config import Config

    try:
        cfg = Config.fromfile(str(path)).to_dict()
    except MatbenchError:
        raise
    except Exception as exc:  # noqa: BLE001 - a config is Python: any error is the user's, shown in one line
        detail = " ".join(str(exc).split())[:300]
        raise MatbenchError(f"{path}: cannot read the suite: {type(exc).__name__}: {detail}") from None
    return cfg, path, hashlib.sha256(path.read_bytes()).hexdigest()


def load_suite(source: Union[str, os.PathLike, Mapping]) -> Suite:
    """Read and check a suite (a config file, or its content as a dict): everything that can be
    known without evaluating is checked here, so a suite that starts does not stop on a typo."""
    cfg, path, sha = read_config(source)
    check = _Checker(str(path) if path is not None else "suite")
    for name in cfg:
        if name in SUITE_KEYS or name.startswith("_"):
            continue
        close = difflib.get_close_matches(name.lower(), SUITE_KEYS, n=1, cutoff=0.8)
        if close:
            raise check.fail("", f"unknown key '{name}'; did you mean '{close[0]}'? (a helper variable of "
                                 "your own: start its name with '_')")
    for key in ("datasets", "runs"):
        if not isinstance(cfg.get(key), (list, tuple)) or not cfg[key]:
            raise check.fail("", f"'{key}' should be a non-empty list of dict(...) entries, got {cfg.get(key)!r}")
    work_dir = check.text(cfg.get("work_dir"), "", "work_dir")
    datasets = [_dataset(check, entry, i) for i, entry in enumerate(cfg["datasets"])]
    _unique(check, datasets, "key", "datasets", "dataset key")
    keys = [d.key for d in datasets]
    runs = [_run(check, entry, i, keys) for i, entry in enumerate(cfg["runs"])]
    _unique(check, runs, "label", "runs", "label")
    _same_runs(check, runs)
    _check_datasets(check, datasets)
    _check_data_roots(check, datasets)          # before the model plugins load: missing data fails fast
    _check_runs(check, runs)
    pairs = []
    for d in datasets:
        for r in runs:
            if d.key not in r.datasets:
                continue
            skip = None
            if r.predictions is not None and d.key not in r.predictions:
                skip = f"{r.where} has no predictions folder for dataset '{d.key}'"
            pairs.append(Pair(d, r, skip))
    _check_jobs(check, [p for p in pairs if p.skip is None])
    config_sha = hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()
    return Suite(path=path, datasets=datasets, runs=runs, pairs=pairs, work_dir=work_dir, file_sha256=sha,
                 config_sha256=config_sha)


def _dataset(check: _Checker, entry: Any, index: int) -> DatasetEntry:
    where = f"datasets[{index}]"
    entry = check.keys(entry, DATASET_KEYS, where, "dataset")
    name = check.text(entry.get("name"), where, "name", optional=False)
    key = check.text(entry.get("key", name), where, "key")
    where = f"datasets[{index}] ('{key}')"
    options = check.options(entry.get("options"), where, "options")
    if "data_root" in options:
        raise check.fail(where, "options: give data_root as the entry's own key, data_root='...'")
    d = DatasetEntry(key=key, name=name, data_root=check.text(entry.get("data_root"), where, "data_root"),
                     options=options, variant=check.text(entry.get("variant"), where, "variant"), index=index,
                     slug=slug(key))
    if not d.slug:
        raise check.fail(where, "the key has no letter or digit to name its folder")
    return d


def _run(check: _Checker, entry: Any, index: int, dataset_keys: list[str]) -> RunEntry:
    where = f"runs[{index}]"
    entry = check.keys(entry, RUN_KEYS, where, "run")
    if "label" not in entry:
        raise check.fail(where, "no label (each run needs its own: its row in the tables and its folder)")
    label = check.text(entry["label"], where, "label", optional=False)
    where = f"runs[{index}] ('{label}')"
    run = RunEntry(label=label, index=index, slug=slug(label))
    if not run.slug:
        raise check.fail(where, "the label has no letter or digit to name its folder")
    if run.slug in RESERVED_RUN_SLUGS:
        raise check.fail(where, f"the folder name '{run.slug}' is the dataset report's pictures folder; "
                                "choose another label")
    has_model, has_predictions = entry.get("model") is not None, entry.get("predictions") is not None
    if has_model and has_predictions:
        raise check.fail(where, "has both model and predictions: a run is either a model or a folder of "
                                "predictions (make two runs)")
    if not has_model and not has_predictions:
        raise check.fail(where, "needs a model='NAME' or predictions=dict(<dataset key>='FOLDER', ...)")
    covered = entry.get("datasets")
    if covered is None:
        covered = list(dataset_keys)
    else:
        if isinstance(covered, str) or not isinstance(covered, (list, tuple)) or not covered:
            raise check.fail(where, f"datasets should be a non-empty list of dataset keys, got {covered!r}")
        for key in covered:
            if key not in dataset_keys:
                raise check.fail(where, f"datasets: no dataset '{key}' in the suite"
                                        f"{did_you_mean(str(key), dataset_keys)} (keys: {', '.join(dataset_keys)})")
        if len(set(covered)) != len(covered):
            raise check.fail(where, "datasets: a dataset is listed twice")
        covered = [k for k in dataset_keys if k in covered]
    run.datasets = covered
    if has_predictions:
        given = [k for k in MODEL_ONLY if entry.get(k) not in (None, False, {})]
        if given:
            raise check.fail(where, f"{', '.join(given)}: only for a model; predictions are scored as they are")
        run.predictions = _predictions(check, entry["predictions"], where, covered, dataset_keys,
                                       explicit=entry.get("datasets") is not None)
        return run
    run.model, run.model_options = _plugin_and_options(check, entry["model"], entry.get("model_options"),
                                                       where, "model")
    if entry.get("strategy") is not None or entry.get("strategy_options"):
        run.strategy, run.strategy_options = _plugin_and_options(check, entry.get("strategy"),
                                                                 entry.get("strategy_options"), where, "strategy")
    run.checkpoint = check.text(entry.get("checkpoint"), where, "checkpoint")
    run.random_weights = check.flag(entry.get("random_weights", False), where, "random_weights")
    run.amp = check.text(entry.get("amp"), where, "amp")
    run.channels_last = check.flag(entry.get("channels_last", False), where, "channels_last")
    return run


def _predictions(check: _Checker, value: Any, where: str, covered: list[str], dataset_keys: list[str],
                 explicit: bool) -> dict:
    """``{dataset key: folder}`` of a predictions run. One text is the folder of every dataset
    with ``{dataset}`` standing for the dataset's key (a text without it: a run of one dataset)."""
    if isinstance(value, (str, os.PathLike)):
        text = check.text(value, where, "predictions")
        if DATASET_FIELD not in text and len(covered) > 1:
            raise check.fail(where, f"predictions='{text}' would be the folder of {len(covered)} datasets: write "
                                    f"'{DATASET_FIELD}' where the dataset's key goes, or give "
                                    "predictions=dict(<dataset key>='FOLDER', ...)")
        return {k: text.replace(DATASET_FIELD, k) for k in covered}
    if not isinstance(value, Mapping) or not value:
        raise check.fail(where, f"predictions should be a folder or a dict(<dataset key>='FOLDER', ...), got {value!r}")
    folders = {}
    for key, folder in value.items():
        if key not in dataset_keys:
            raise check.fail(where, f"predictions: no dataset '{key}' in the suite"
                                    f"{did_you_mean(str(key), dataset_keys)} (keys: {', '.join(dataset_keys)})")
        folders[key] = check.text(folder, where, f"predictions['{key}']", optional=False)
    if explicit:
        missing = [k for k in covered if k not in folders]
        if missing:
            raise check.fail(where, f"datasets lists '{missing[0]}' but predictions has no folder for it")
    return folders


def _unique(check: _Checker, entries: list, attr: str, kind: str, what: str) -> None:
    """Refuse two entries with one ``attr`` or one folder name (``slug``)."""
    seen: dict[str, Any] = {}
    folders: dict[str, Any] = {}
    for entry in entries:
        value = getattr(entry, attr)
        if value in seen:
            raise check.fail("", f"{kind}[{seen[value].index}] and {kind}[{entry.index}] have the same {what} "
                                 f"'{value}'; give each its own ({what}s name the "
                                 f"{'rows of the tables' if kind == 'runs' else 'folders and table columns'})")
        seen[value] = entry
        if entry.slug in folders:
            other = folders[entry.slug]
            raise check.fail("", f"{other.where} and {entry.where} would share the folder '{entry.slug}'; "
                                 f"give one another {what}")
        folders[entry.slug] = entry


def _same_runs(check: _Checker, runs: list[RunEntry]) -> None:
    """Two labels for one run would compute it twice and show it as two methods."""
    seen: dict[str, RunEntry] = {}
    for run in runs:
        body = {k: v for k, v in vars(run).items() if k not in ("label", "index", "slug", "datasets")}
        text = json.dumps(body, sort_keys=True, default=str)
        if text in seen:
            raise check.fail("", f"{seen[text].where} and {run.where} are the same run (same model, options and "
                                 "weights, or the same folders); remove one")
        seen[text] = run


def _check_datasets(check: _Checker, datasets: list[DatasetEntry]) -> None:
    """The dataset plugins, their options and metric variants; two entries that tables would
    merge (one dataset name scored with one variant) are refused."""
    from ..evaluation.options import choose_variant
    from ..registry import DATASETS, _parameters, check_options, lookup

    shown: dict[tuple, DatasetEntry] = {}
    for d in datasets:
        try:
            cls = lookup(DATASETS, d.name)
            check_options(cls, d.options, f"options of '{d.name}'")
            d.resolved_variant, _ = choose_variant(d.variant, d.name)
        except MatbenchError as exc:
            raise check.fail(d.where, str(exc)) from None
        params, _ = _parameters(cls)
        needed = "data_root" in params and params["data_root"].default is inspect.Parameter.empty
        if needed and not d.data_root:
            raise check.fail(d.where, f"no data_root: the folder of the '{d.name}' set")
        meta = d.options.get("metainfo") if isinstance(d.options.get("metainfo"), Mapping) else {}
        name = meta.get("name") or (getattr(cls, "METAINFO", None) or {}).get("name") or d.name
        if (name, d.resolved_variant) in shown:
            other = shown[(name, d.resolved_variant)]
            raise check.fail("", f"{other.where} and {d.where} are both '{name}' scored as "
                                 f"'{d.resolved_variant}': their tables would be merged; give one another "
                                 "variant or options=dict(metainfo=dict(name='...', title='...'))")
        shown[(name, d.resolved_variant)] = d


def _check_runs(check: _Checker, runs: list[RunEntry]) -> None:
    """The model and strategy plugins and their options; what a trimap-based method or a
    network needs and refuses."""
    from ..models import TrimapMattingModel
    from ..registry import MODELS, STRATEGIES, check_options, lookup

    for run in runs:
        if run.model is None:
            continue
        try:
            cls = lookup(MODELS, run.model)
            check_options(cls, run.model_options, f"model_options of '{run.model}'")
            # without a strategy, a network runs through the one its class names (a name or a config)
            default = getattr(cls, "default_strategy", None)
            strategy = run.strategy or (default.get("type") if isinstance(default, Mapping) else default)
            if strategy is not None:
                check_options(lookup(STRATEGIES, strategy), run.strategy_options, f"strategy_options of '{strategy}'")
        except MatbenchError as exc:
            raise check.fail(run.where, str(exc)) from None
        if isinstance(cls, type) and issubclass(cls, TrimapMattingModel):
            given = [k for k in ("strategy", "strategy_options", "checkpoint", "random_weights", "amp",
                                 "channels_last") if getattr(run, k)]
            if given:
                raise check.fail(run.where, f"'{run.model}' is trimap-based: it takes no {', '.join(given)}")
        else:
            from ..evaluation.options import weights_hint
            from ..networks import AMP_DTYPES

            if not run.checkpoint and not run.random_weights:
                raise check.fail(run.where, f"'{run.model}' needs checkpoint='...' ({weights_hint(run.model)}), "
                                            "or random_weights=True for a smoke test")
            if run.amp is not None and run.amp not in AMP_DTYPES:
                raise check.fail(run.where, f"unknown amp '{run.amp}' (known: {', '.join(AMP_DTYPES)})")


def _check_jobs(check: _Checker, pairs: list[Pair]) -> None:
    """Each pair as ``matbench eval`` would resolve it (what is left: a network's default
    strategy, ``amp``, combinations of options); nothing is read or written."""
    from ..evaluation.options import make_job
    from ..results import _pairs, _path

    seen = set()
    for pair in pairs:
        kwargs = pair.evaluate_kwargs()
        if kwargs.get("predictions") is not None:
            continue                                  # nothing to resolve beyond the dataset's variant
        key = json.dumps({k: v for k, v in kwargs.items() if k not in ("data_root",)}, sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        try:
            make_job(dataset=kwargs["dataset"], data_root=_path(kwargs["data_root"]),
                     dataset_options=_pairs(kwargs["dataset_options"]), model=kwargs["model"],
                     checkpoint=_path(kwargs["checkpoint"]), strategy=kwargs["strategy"],
                     strategy_options=_pairs(kwargs["strategy_options"]), random_weights=kwargs["random_weights"],
                     variant=kwargs["metric_variant"], work_dir=Path(pair.folder), label=pair.run.label,
                     amp=kwargs["amp"], channels_last=kwargs["channels_last"],
                     model_options=_pairs(kwargs["model_options"]), threads=1)
        except MatbenchError as exc:
            raise check.fail(pair.run.where, f"on '{pair.dataset.key}': {exc}") from None


def _check_data_roots(check: _Checker, datasets: list[DatasetEntry]) -> None:
    """Every data root that is not a folder, in one message."""
    missing = [f"{d.where}: {d.data_root}" for d in datasets if d.data_root and not os.path.isdir(d.data_root)]
    if missing:
        raise check.fail("", f"data root{'s' if len(missing) > 1 else ''} not found (relative paths are from "
                             f"the current folder {os.getcwd()}): " + "; ".join(missing))
