"""``matbench train``: an mmengine config run by mmengine's Runner, with safe resume and AMP."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from ..errors import MatbenchError

AMP_DTYPES = ("fp16", "bf16")


def load_train_config(config: Path, work_dir: Optional[Path] = None, resume: bool = False,
                      amp: Optional[str] = None, channels_last: bool = False, cfg_options: Sequence[str] = (),
                      launcher: str = "none", tensorboard: bool = False):
    """The mmengine ``Config`` of a training run, with the command line's overrides applied.

    On CUDA the training DataLoader pins memory unless the config says otherwise, so that the
    model's non-blocking copies overlap with compute."""
    from mmengine.config import Config, DictAction

    from ..evaluation.options import parse_key_values

    if not config.is_file():
        raise MatbenchError(f"{config}: config file not found")
    try:
        cfg = Config.fromfile(str(config))
    except Exception as exc:  # syntax errors, missing _base_ files
        raise MatbenchError(f"{config}: cannot read config: {str(exc).splitlines()[0]}") from None
    if cfg_options:
        parsed = {}
        for key, value in parse_key_values(cfg_options).items():
            parsed[key] = DictAction._parse_iterable(value) if isinstance(value, str) else value
        cfg.merge_from_dict(parsed)
    cfg.work_dir = str(work_dir or Path("work_dirs") / config.stem)
    import torch

    if torch.cuda.is_available() and cfg.get("train_dataloader"):
        cfg.train_dataloader.setdefault("pin_memory", True)
    if not torch.cuda.is_available() and launcher != "none":
        # CPU processes: gloo instead of nccl, and DDP without device ids
        cfg.setdefault("env_cfg", {}).setdefault("dist_cfg", {})["backend"] = "gloo"
        cfg.model_wrapper_cfg = dict(type="MMDistributedDataParallel", device_ids=None, broadcast_buffers=False)
    cfg.launcher = launcher
    cfg.resume = resume or cfg.get("resume", False)
    hooks = cfg.get("custom_hooks", [])
    if not any(h.get("type") == "SafeCheckpointHook" for h in hooks):
        cfg.custom_hooks = hooks + [dict(type="SafeCheckpointHook")]
    if amp is not None:
        _set_amp(cfg, amp, torch.cuda.is_available())
    if channels_last:
        cfg.model.channels_last = True
    if tensorboard:
        cfg.visualizer.vis_backends = list(cfg.visualizer.vis_backends) + [dict(type="TensorboardVisBackend")]
    return cfg


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


def _set_amp(cfg, amp: str, cuda: bool) -> None:
    """Mixed precision: mmengine's ``AmpOptimWrapper`` on CUDA (fp16 with loss scaling, or bf16);
    bf16 autocast on the CPU, where fp16 autocast is not supported."""
    if amp not in AMP_DTYPES:
        raise MatbenchError(f"unknown --amp '{amp}' (known: {', '.join(AMP_DTYPES)})")
    if cuda:
        cfg.optim_wrapper.type = "AmpOptimWrapper"
        cfg.optim_wrapper.dtype = {"fp16": "float16", "bf16": "bfloat16"}[amp]
    elif amp == "bf16":
        cfg.optim_wrapper.type = "CpuAutocastOptimWrapper"
    else:
        raise MatbenchError("--amp fp16 needs a CUDA GPU, and none is available (use --amp bf16 on the CPU)")


def _init_cpu_process_group() -> None:
    """Under torchrun without CUDA, join the gloo process group before mmengine does: its
    ``init_dist`` calls ``torch.cuda.set_device`` unconditionally. (mmengine skips its own
    initialisation when a group exists.)"""
    import torch
    import torch.distributed as dist

    if not torch.cuda.is_available() and not dist.is_initialized():
        dist.init_process_group(backend="gloo")


def _route_weights(cfg) -> None:
    """``--resume`` continues from the work dir's last checkpoint: mmengine would resume from
    ``load_from`` instead when one is set (stage 2's stage-1 weights, say). Otherwise ``load_from``
    goes through :class:`StrictLoadHook`, strict and safe, where mmengine's load only warns when
    no key of the file fits the model."""
    weights = cfg.get("load_from")
    cfg.load_from = None
    if cfg.resume:
        if not (Path(cfg.work_dir) / "last_checkpoint").is_file():
            raise MatbenchError(f"{cfg.work_dir}: nothing to resume (no last_checkpoint in the work dir)")
    elif weights:
        if not Path(weights).is_file():
            raise MatbenchError(f"{weights}: load_from checkpoint not found")
        cfg.custom_hooks = list(cfg.get("custom_hooks", [])) + [dict(type="StrictLoadHook", checkpoint=str(weights))]


def _build_runner(cfg, config: Path):
    """mmengine's Runner with the parts it builds lazily (data, loops, optimizer) built now, so a
    mistake in the config is a one-line error naming the config, not a traceback."""
    from mmengine.runner import Runner

    try:
        runner = Runner.from_cfg(cfg)
        runner.train_loop, runner.val_loop  # noqa: B018  (properties that build the loops and data)
        runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    except MatbenchError:
        raise
    except (KeyError, TypeError, ValueError, AssertionError) as exc:
        detail = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
        detail = detail.splitlines()[0] if detail else ""
        raise MatbenchError(f"{config}: cannot build the run: {type(exc).__name__}: {detail}") from None
    return runner


def train(config: Path, **options) -> Path:
    """Train from ``config``; returns the work dir (checkpoints, ``last_checkpoint``, logs)."""
    import matbench.training.cpu_autocast  # noqa: F401  (registers CpuAutocastOptimWrapper)
    import matbench.training.hooks  # noqa: F401  (registers ValidateBeforeTrainHook, StrictLoadHook)
    import matbench.training.safe_checkpoint  # noqa: F401  (registers SafeCheckpointHook)

    from ..plugins import load_plugins

    load_plugins()
    cfg = load_train_config(config, **options)
    check_types(cfg, config)
    _route_weights(cfg)
    if cfg.launcher != "none":
        _init_cpu_process_group()
    runner = _build_runner(cfg, config)
    runner.train()
    return Path(cfg.work_dir)
