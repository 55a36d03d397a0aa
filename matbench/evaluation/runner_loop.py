"""The evaluation of a method or a network: mmengine's Runner test loop and Evaluator, with a
DataLoader reading the images, under torchrun when launched so."""
from __future__ import annotations

import datetime
import os
import uuid
from pathlib import Path
from typing import Any

import torch
from mmengine.dist import get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.registry import MODEL_WRAPPERS
from torch.utils.data import Dataset

from ..errors import MatbenchError
from .progress import ProgressBar


class _Pending(Dataset):
    """The samples still to evaluate; a loading error travels as data to the main process,
    where it is raised as a one-line error (DataLoader workers would bury it in a traceback)."""

    def __init__(self, dataset: Any, indices: list[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def metainfo(self) -> dict:
        return dict(getattr(self.dataset, "metainfo", {}))

    def __getitem__(self, i: int) -> dict:
        try:
            return self.dataset[self.indices[i]]
        except MatbenchError as exc:
            return {"name": f"#{self.indices[i]}", "error": str(exc)}


@MODEL_WRAPPERS.register_module()
class EvalOnlyWrapper(torch.nn.Module):
    """The model wrapper of an evaluation under several processes: the model as it is (each
    process predicts its own share of the images; nothing is synchronised but the rows)."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def test_step(self, data: Any) -> list:
        return self.module.test_step(data)


class RichProgressHook(Hook):
    """The progress bar of the Runner's test loop (rank 0 reports for all ranks)."""

    priority = "VERY_LOW"

    def __init__(self, description: str = "evaluating", already_done: int = 0) -> None:
        self.description = description
        self.already_done = already_done
        self._bar: ProgressBar | None = None

    def before_test_epoch(self, runner) -> None:
        if is_main_process():
            total = len(runner.test_dataloader.dataset) + self.already_done
            self._bar = ProgressBar(self.description, total, self.already_done)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._bar is not None:
            # under DDP each rank handles 1/world of the images (rank 0's share may be one larger)
            self._bar.advance((len(outputs) if outputs else 1) * get_world_size())

    def after_test_epoch(self, runner, metrics=None) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def run_with_runner(job: Any, predictor: Any, dataset: Any, pending: list[int], metric: Any,
                    already_done: int) -> None:
    """Predict and score the samples at `pending` of `dataset` with `predictor` (a Runner model)."""
    from mmengine.evaluator import Evaluator
    from mmengine.runner import Runner

    work_dir = Path(job.work_dir)
    if job.torch_threads:
        from ..threads import set_torch_threads

        set_torch_threads(job.torch_threads)
    runner = Runner(
        model=predictor,
        work_dir=str(work_dir / "logs"),
        test_dataloader=dict(dataset=_Pending(dataset, pending), batch_size=1, num_workers=job.num_workers,
                             persistent_workers=False,
                             # each image exactly once: no padding of the last rank's share
                             sampler=dict(type="DefaultSampler", shuffle=False, round_up=False),
                             collate_fn=dict(type="pseudo_collate")),
        test_cfg=dict(type="TestLoop"),
        test_evaluator=Evaluator([metric]),
        # no DDP around a model that is only evaluated (DDP refuses modules without gradients)
        cfg=dict(model_wrapper_cfg=dict(type="EvalOnlyWrapper")) if job.launcher != "none" else None,
        default_hooks=dict(logger=dict(type="LoggerHook", interval=10**9)),
        custom_hooks=[RichProgressHook(f"{job.label or 'evaluating'} ({job.variant})", already_done)],
        launcher=job.launcher,
        env_cfg=dict(cudnn_benchmark=False, dist_cfg=dict(backend="nccl" if torch.cuda.is_available() else "gloo")),
        log_level=os.environ.get("MATBENCH_LOG_LEVEL", "WARNING"),
        # everything is passed built, so no scope is needed (one would make mmengine warn about
        # the hook/loop/visualizer registries matbench does not extend)
        default_scope=None,
        # mmengine's global instances (logger, scope, visualizer) are keyed by this name: the
        # timestamp it defaults to collides when two evaluations start within the same second.
        experiment_name=f"eval-{datetime.datetime.now():%Y%m%d_%H%M%S}-{uuid.uuid4().hex[:8]}",
        visualizer=dict(type="Visualizer", vis_backends=[]),
    )
    try:
        runner.test()
    except RuntimeError as exc:
        # torch: "DataLoader worker (pid(s) N) exited unexpectedly" / "... is killed by signal: Killed."
        if "DataLoader worker" not in str(exc):
            raise
        detail = str(exc).strip().splitlines()[0]
        raise MatbenchError(f"a data-loading process ended while reading images ({detail.rstrip('. ')}; out of "
                            "memory?); what was finished is kept: run the same command to resume, with fewer "
                            "--workers if memory is short") from None
