"""``matbench train``: an mmengine config run by mmengine's Runner, with safe resume and AMP."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any, Optional, Sequence

from ..errors import InputError, MatbenchError
from ..dist import init_processes
from .config_checks import check_option_key, check_schedule, check_types

AMP_DTYPES = ("fp16", "bf16")


def load_train_config(config: Path, work_dir: Optional[Path] = None, resume: bool = False,
                      amp: Optional[str] = None, channels_last: bool = False, cfg_options: Sequence[str] = (),
                      launcher: str = "none", tensorboard: bool = False, threads: Optional[int] = None):
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
            check_option_key(cfg, key, config)
            try:
                parsed[key] = DictAction._parse_iterable(value) if isinstance(value, str) else value
            except Exception:  # mmengine's parser recurses without end on e.g. dict(...)
                raise MatbenchError(f"--cfg-options {key}: cannot parse the value {value!r}") from None
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
    cfg.threads = threads
    cfg.resume = resume or cfg.get("resume", False)
    hooks = cfg.get("custom_hooks", [])
    if not any(h.get("type") == "SafeCheckpointHook" for h in hooks):
        cfg.custom_hooks = hooks + [dict(type="SafeCheckpointHook")]
    if amp is not None:
        _set_amp(cfg, amp, torch.cuda.is_available())
    if channels_last:
        cfg.model.channels_last = True
    if tensorboard:
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            raise MatbenchError("--tensorboard needs the tensorboard extra: pip install 'matbench-matting[tensorboard]'")
        cfg.visualizer.vis_backends = list(cfg.visualizer.vis_backends) + [dict(type="TensorboardVisBackend")]
    return cfg


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


def check_resume_checkpoint(cfg) -> Optional[Path]:
    """The checkpoint ``--resume`` continues from (named by the work dir's ``last_checkpoint``),
    checked before the run is built: it exists and loads safely (``weights_only``, memory-mapped, so
    its tensors are not read twice) as a training checkpoint. mmengine's own load would fail later
    with a traceback that does not name the file."""
    pointer = Path(cfg.work_dir) / "last_checkpoint"
    if not cfg.resume or not pointer.is_file():
        return None
    text = pointer.read_text().strip()
    if not text:
        raise InputError(pointer, "empty; it should name the checkpoint to resume from")
    path = Path(text)
    if not path.exists():
        raise InputError(path, f"checkpoint not found (named by {pointer})")
    if not path.is_file():
        raise InputError(path, f"not a file (named by {pointer})")
    if path.stat().st_size == 0:
        raise InputError(path, "empty checkpoint (0 bytes)")
    ckpt = _load_safely(path)
    meta = ckpt.get("meta") if isinstance(ckpt, dict) else None
    if not (isinstance(meta, dict) and {"epoch", "iter"} <= set(meta) and "state_dict" in ckpt):
        raise InputError(path, "not a training checkpoint (no meta.epoch, meta.iter and state_dict); "
                               "weights to start from go to load_from")
    _check_same_optimizer(cfg, ckpt, path)
    return path


def _check_same_optimizer(cfg, ckpt: dict, path: Path) -> None:
    """Refuse resuming with another optimizer than the one that wrote the checkpoint: its state
    would not fit (mmengine fails deep inside with e.g. ``KeyError: 'momentum'``)."""
    import torch

    saved = ckpt.get("optimizer")
    optimizer = (cfg.get("optim_wrapper") or {}).get("optimizer") or {}
    groups = saved.get("param_groups") if isinstance(saved, dict) else None
    if not groups or not isinstance(optimizer.get("type"), str):
        return
    from mmengine.registry import OPTIMIZERS

    import mmengine.optim  # noqa: F401  (registers torch's optimizers)

    cls = OPTIMIZERS.get(optimizer["type"])
    if cls is None:
        return
    try:
        probe = cls([torch.nn.Parameter(torch.zeros(1))], **{k: v for k, v in optimizer.items() if k != "type"})
    except Exception:  # noqa: BLE001 - the run reports a bad optimizer config itself
        return
    expected = set(probe.state_dict()["param_groups"][0]) - {"params"}
    found = set(groups[0]) - {"params"}
    if not found <= expected:
        raise InputError(path, f"written by another optimizer than the config's {optimizer['type']} (its settings "
                               f"{', '.join(sorted(found - expected))} are not {optimizer['type']}'s): resume with the "
                               "config it was trained with, or start from its weights with load_from")


def _load_safely(path: Path) -> Any:
    """``torch.load(weights_only=True)`` of ``path`` with one-line errors naming it."""
    import pickle

    import torch

    from ..networks import first_line

    zipped = zipfile.is_zipfile(path)           # False for a cut file: its directory is at the end
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=zipped)
    except pickle.UnpicklingError as exc:
        refused = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        if refused or "Weights only load failed" in str(exc):
            what = f" ({refused.group(1)})" if refused else ""
            raise InputError(path, f"refused by torch.load(weights_only=True): it holds Python objects{what} "
                                   "that only running code could load") from None
        raise InputError(path, f"cannot load checkpoint: {first_line(exc)}") from None
    except Exception as exc:
        problem = "damaged" if zipped else "truncated, or not a PyTorch checkpoint"
        detail = first_line(exc).split(". ")[0]        # torch goes on with advice over several sentences
        raise InputError(path, f"cannot load checkpoint: {problem} ({type(exc).__name__}: {detail})") from None


def _set_threads(cfg) -> None:
    """torch's threads: the budget (``--threads``, default the CPUs this process may use, its share
    under torchrun), all of it. The DataLoader's processes are not subtracted: they fill their
    prefetch queue and then wait while the step runs (tools/bench_train_loop.py: a loader
    delivers ~80 batches/s against ~0.3 steps/s), and taking their share from torch halved the
    step's speed on an idle machine. Waiting OpenMP threads sleep (``OMP_WAIT_POLICY=PASSIVE``),
    so a busy loader costs the step little."""
    import os

    from ..threads import available_cpus, set_torch_threads

    threads = cfg.pop("threads", None)
    if threads is not None and threads < 1:
        raise MatbenchError(f"--threads {threads}: expected 1 or more")
    total = threads or max(1, available_cpus() // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", 1))))
    set_torch_threads(total)


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
    check_schedule(cfg, config)
    work_dir = Path(cfg.work_dir)
    if work_dir.exists() and not work_dir.is_dir():
        raise InputError(work_dir, "the work dir is a file, not a folder (choose another --work-dir)")
    _route_weights(cfg)
    check_resume_checkpoint(cfg)
    init_processes(cfg.launcher)
    _set_threads(cfg)
    runner = _build_runner(cfg, config)
    runner.train()
    return Path(cfg.work_dir)
