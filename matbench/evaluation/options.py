"""Turning command-line options (and an optional config file) into an :class:`EvalJob`."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional, Sequence

from ..errors import MatbenchError
from ..models import TrimapMattingModel
from ..plugins import known_names, load_plugins_of
from ..registry import METRICS, MODELS, STRATEGIES, lookup
from .run import EvalJob

DEFAULT_DATASET = "embedded"


def default_network() -> str:
    """The network evaluated when --strategy or --checkpoint comes without --model / --config:
    the registered model whose class sets ``default_network = True``."""
    from ..plugins import load_plugins

    load_plugins()
    names = [name for name, cls in MODELS.module_dict.items() if getattr(cls, "default_network", False)]
    if not names:
        raise MatbenchError("no --model given and no model plugin declares itself the default network")
    return names[0]


def weights_hint(model_type: str) -> str:
    """Where a network's weights come from, as its class says (``weights``), for messages."""
    hint = getattr(lookup(MODELS, model_type), "weights", "")
    return hint or "pass its weights with --checkpoint"


#: what chooses the plugin itself: never an option (``--dataset-option type=aim500`` would switch
#: the dataset behind the user's back)
_CHOOSERS = {"type": "--dataset / --model / --strategy"}


def parse_key_values(pairs: Sequence[str]) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}`` (values parsed as Python literals when possible)."""
    import ast

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise MatbenchError(f"expected KEY=VALUE, got '{pair}'")
        if key in _CHOOSERS:
            raise MatbenchError(f"'{pair}': '{key}' is not an option; the plugin is chosen with {_CHOOSERS[key]}")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def resolve_device(name: Optional[str]) -> str:
    """'cpu' or 'cuda' (default: cuda when available); refuses cuda on a machine without it."""
    import torch

    if name is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise MatbenchError(f"unknown device '{name}' (cpu, cuda or cuda:N)")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise MatbenchError(f"device '{name}' requested but torch sees no CUDA device")
    return name


def _given(**options: Any) -> list[str]:
    """The command-line names of the options given a value (``strategy_options=[...]`` ->
    ``--strategy-option``), for refusing options that do not apply."""
    return ["--" + name.removesuffix("s" if name.endswith("_options") else "").replace("_", "-")
            for name, value in options.items() if value]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower() or "run"


def _load_config(path: Optional[Path]) -> dict:
    if path is None:
        return {}
    from mmengine.config import Config

    if not path.is_file():
        raise MatbenchError(f"{path}: config file not found")
    return Config.fromfile(str(path)).to_dict()


def network_source(cfg: dict, model_cfg: dict, strategy: Optional[str], strategy_options: Sequence[str],
                   checkpoint: Optional[Path], random_weights: bool,
                   default_strategy: str | dict | None = None) -> tuple[dict, Optional[str]]:
    """The strategy config and the checkpoint of a network (command line over config); refuses
    a network without weights unless ``random_weights``. ``default_strategy`` (the network's
    class attribute) is a strategy name or a whole strategy config with its options (the
    official test procedure), used when neither names a strategy."""
    strategy_cfg = dict(cfg.get("strategy", {}))
    if strategy:
        strategy_cfg = {"type": strategy}
    strategy_cfg.update(parse_key_values(strategy_options))
    if default_strategy and "type" not in strategy_cfg:
        default = dict(default_strategy) if isinstance(default_strategy, dict) else {"type": default_strategy}
        strategy_cfg = {**default, **strategy_cfg}
    if "type" not in strategy_cfg:
        raise MatbenchError(f"model '{model_cfg['type']}' needs --strategy "
                            f"(one of: {', '.join(known_names(STRATEGIES)) or 'none registered'})")
    lookup(STRATEGIES, strategy_cfg["type"])
    ckpt = str(checkpoint) if checkpoint else cfg.get("load_from")
    if not ckpt and not random_weights:
        hint = weights_hint(model_cfg["type"])
        smoke = "" if "--random-weights" in hint else " (or --random-weights for a smoke test)"
        raise MatbenchError(f"model '{model_cfg['type']}' has no weights: {hint}{smoke}")
    return strategy_cfg, ckpt


def choose_variant(variant: Optional[str], dataset: str) -> tuple[str, str]:
    """The metric variant of a run and what chose it: the command line, else the dataset's
    convention (``METAINFO["default_variant"]``), else the metric plugin marked ``default``."""
    from .run import dataset_metainfo

    dataset_default = dataset_metainfo(dataset).get("default_variant")
    if variant is not None:
        origin = "--metric-variant" + (f" (the dataset's convention is '{dataset_default}')"
                                       if dataset_default and dataset_default != variant else "")
    elif dataset_default:
        variant, origin = dataset_default, f"the dataset's convention ({dataset})"
    else:
        load_plugins_of(METRICS)
        defaults = [name for name, cls in METRICS.module_dict.items() if getattr(cls, "default", False)]
        if not defaults:
            raise MatbenchError("no --metric-variant given and no metric plugin declares itself the default")
        variant, origin = defaults[0], "the default metric variant"
    lookup(METRICS, variant)
    return variant, origin


def make_predict_job(*, inputs: Sequence[Path], out: Path, model: Optional[str], config: Optional[Path],
                     checkpoint: Optional[Path], strategy: Optional[str], strategy_options: Sequence[str] = (),
                     random_weights: bool = False, device: str = "cpu", amp: Optional[str] = None,
                     channels_last: bool = False, cutout: bool = False, composite: Optional[str] = None,
                     save_trimap: bool = False, trimaps: Sequence[Path] = (), model_options: Sequence[str] = (),
                     threads: Optional[int] = None):
    """Resolve ``matbench predict``'s options into a PredictJob (defaults: the default network and
    the strategy its class names, ``default_strategy``); a trimap-based method takes ``trimaps``
    and no strategy."""
    from ..predict import PredictJob
    from ..networks import AMP_DTYPES

    if threads is not None and threads < 1:
        raise MatbenchError(f"--threads {threads}: expected 1 or more")

    cfg = _load_config(config)
    model_cfg = {"type": model} if model else dict(cfg.get("model", {})) or {"type": default_network()}
    model_cfg.update(parse_key_values(model_options))
    model_cls = lookup(MODELS, model_cfg["type"])
    if amp is not None and amp not in AMP_DTYPES:
        raise MatbenchError(f"unknown --amp '{amp}' (known: {', '.join(AMP_DTYPES)})")
    if isinstance(model_cls, type) and issubclass(model_cls, TrimapMattingModel):
        given = _given(strategy=strategy, strategy_options=strategy_options, checkpoint=checkpoint,
                       random_weights=random_weights, amp=amp, channels_last=channels_last, save_trimap=save_trimap)
        if given:
            raise MatbenchError(f"model '{model_cfg['type']}' is trimap-based: it takes no {', '.join(given)}")
        strategy_cfg, ckpt = {}, None
    else:
        strategy_cfg, ckpt = network_source(cfg, model_cfg, strategy, strategy_options, checkpoint, random_weights,
                                            default_strategy=getattr(model_cls, "default_strategy", None))
    return PredictJob(inputs=list(inputs), out=out, model=model_cfg, strategy=strategy_cfg, checkpoint=ckpt,
                      random_weights=random_weights and not ckpt, device=device, amp=amp,
                      channels_last=channels_last, cutout=cutout, composite=composite, save_trimap=save_trimap,
                      trimaps=list(trimaps), threads=threads)


def make_job(*, dataset: Optional[str], data_root: Optional[Path], dataset_options: Sequence[str] = (),
             predictions: Optional[Path] = None, model: Optional[str] = None, config: Optional[Path] = None,
             checkpoint: Optional[Path] = None, strategy: Optional[str] = None,
             strategy_options: Sequence[str] = (), random_weights: bool = False, variant: Optional[str] = None,
             work_dir: Optional[Path] = None, label: Optional[str] = None, workers: Optional[int] = None,
             metric_workers: Optional[int] = None, launcher: str = "none", restart: bool = False,
             amp: Optional[str] = None, channels_last: bool = False, save_predictions: bool = True,
             report: bool = False, model_options: Sequence[str] = (), threads: Optional[int] = None) -> EvalJob:
    """Resolve what to evaluate: a predictions folder, a trimap-based method or a network; the
    processes and threads it runs on come from one budget (:mod:`matbench.threads`)."""
    from ..dist import LAUNCHERS
    from ..threads import eval_budget

    for option, value in (("--workers", workers), ("--metric-workers", metric_workers)):
        if value is not None and value < 0:
            raise MatbenchError(f"{option} {value}: expected 0 (in the main process) or more processes")
    if threads is not None and threads < 1:
        raise MatbenchError(f"--threads {threads}: expected 1 or more")
    if launcher not in LAUNCHERS:
        raise MatbenchError(f"unknown --launcher '{launcher}' (known: {', '.join(LAUNCHERS)})")
    cfg = _load_config(config)
    dataset_name = dataset or cfg.get("test_dataset", {}).get("type") or DEFAULT_DATASET
    variant, variant_origin = choose_variant(variant, dataset_name)
    dataset_cfg = {**cfg.get("test_dataset", {}), "type": dataset_name, **parse_key_values(dataset_options)}
    if data_root is not None:
        dataset_cfg["data_root"] = str(data_root)

    model_cfg = dict(cfg.get("model", {}))
    if model:
        model_cfg = {"type": model}
    elif not model_cfg and predictions is None and (strategy or checkpoint):
        model_cfg = {"type": default_network()}
    if model_cfg:
        model_cfg.update(parse_key_values(model_options))
    if predictions is not None:
        if model_cfg and model:
            raise MatbenchError("give either --predictions or --model, not both")
        given = _given(strategy=strategy, strategy_options=strategy_options, checkpoint=checkpoint,
                       random_weights=random_weights, amp=amp, channels_last=channels_last,
                       model_options=model_options)
        if given:
            raise MatbenchError(f"{', '.join(given)}: only for a model; --predictions are scored as they are")
        predictor = {"type": "PredictionFolder", "root": str(predictions)}
        default_label = f"predictions: {predictions.name}"
    elif model_cfg:
        model_cls = lookup(MODELS, model_cfg["type"])
        if isinstance(model_cls, type) and issubclass(model_cls, TrimapMattingModel):
            given = _given(strategy=strategy, checkpoint=checkpoint, amp=amp, channels_last=channels_last)
            if given:
                raise MatbenchError(f"model '{model_cfg['type']}' is trimap-based: it takes no {', '.join(given)}")
            predictor = {"type": "TrimapPredictor", "model": model_cfg}
            default_label = model_cfg["type"]
        else:
            strategy_cfg, ckpt = network_source(cfg, model_cfg, strategy, strategy_options, checkpoint,
                                                random_weights, getattr(model_cls, "default_strategy", None))
            predictor = {"type": "StrategyPredictor", "model": model_cfg, "strategy": strategy_cfg,
                         "checkpoint": ckpt, "random_weights": random_weights and not ckpt,
                         "amp": amp, "channels_last": channels_last}
            default_label = f"{model_cfg['type']} / {strategy_cfg['type']}" + (
                f" ({amp})" if amp else "") + (" (random weights)" if predictor["random_weights"] else "")
    else:
        raise MatbenchError("nothing to evaluate: give --predictions DIR, --model NAME or --config CFG")

    label = label or default_label
    if work_dir is None:
        work_dir = Path("work_dirs") / "eval" / f"{_slug(dataset_name)}_{_slug(label)}_{variant}"
    if threads is None and launcher != "none":      # torchrun: the CPUs are shared by its processes
        threads = max(1, available_cpus_share())
    budget = eval_budget(threads, runs_model=predictions is None, loaders=workers, metric_workers=metric_workers)
    return EvalJob(dataset=dataset_cfg, predictor=predictor, work_dir=work_dir, variant=variant, label=label,
                   num_workers=budget.loaders, metric_workers=budget.metric_workers,
                   torch_threads=budget.torch if predictions is None else None, launcher=launcher,
                   restart=restart, save_predictions=save_predictions, report=report,
                   extra_meta={"variant_chosen_by": variant_origin, "threads": budget.describe()})


def available_cpus_share() -> int:
    """This process's share of the CPUs under torchrun (``WORLD_SIZE`` processes on them)."""
    import os

    from ..threads import available_cpus

    return available_cpus() // max(1, int(os.environ.get("LOCAL_WORLD_SIZE") or os.environ.get("WORLD_SIZE") or 1))
