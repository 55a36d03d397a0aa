"""The evaluation loop: a dataset, a source of predictions and a metric variant, run by
mmengine's Runner (test loop + Evaluator), resumable, with a results file at the end."""
from __future__ import annotations

import datetime
import os
import platform
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.evaluator import Evaluator
from torch.utils.data import Dataset

from .. import __version__
from ..errors import MatbenchError
from ..registry import DATASETS, METRICS, MODELS, build, lookup
from .journal import Journal, check_same_run, write_json_atomic
from .predictors import PredictionFolder, Predictor
from .progress import RichProgressHook

RESULTS_FILE = "results.json"


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


@dataclass
class EvalJob:
    """Everything that defines one evaluation run."""

    dataset: dict
    predictor: dict
    work_dir: Path
    variant: str = "aim"
    label: str = ""
    num_workers: int = 2
    metric_workers: int = 2
    launcher: str = "none"
    restart: bool = False
    extra_meta: dict = field(default_factory=dict)


def _names(dataset: Any) -> list[str]:
    return [dataset.get_data_info(i)["name"] for i in range(len(dataset))]


def _versions() -> dict:
    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__}


def evaluate(job: EvalJob) -> dict:
    """Run `job`; returns the results dict also written to ``work_dir/results.json``."""
    metric_cls = lookup(METRICS, job.variant)
    predictor: Predictor = build(MODELS, job.predictor)
    dataset_cfg = dict(job.dataset)
    dataset_cfg.setdefault("pipeline", [dict(type="LoadMattingSample")] if predictor.needs_image else [])
    dataset = build(DATASETS, dataset_cfg)
    names = _names(dataset)
    if isinstance(predictor, PredictionFolder):
        predictor.check_names(names)

    work_dir = Path(job.work_dir)
    journal = Journal(work_dir, rank=get_rank())
    if job.restart:
        journal.clear()
        (work_dir / "run.json").unlink(missing_ok=True)
    signature = {"variant": job.variant, "dataset": job.dataset, "source": predictor.describe()}
    check_same_run(work_dir, signature)
    done = [r for r in journal.finished() if r["name"] in set(names)]
    done_names = {r["name"] for r in done}
    pending = [i for i, n in enumerate(names) if n not in done_names]

    meta = {
        "matbench_version": __version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "variant": job.variant,
        "label": job.label,
        "dataset": {"type": dataset_cfg["type"], "data_root": str(dataset_cfg.get("data_root", "")),
                    "num_images": len(names), "config": job.dataset},
        "source": predictor.describe(),
        "command": sys.argv,
        "work_dir": str(work_dir.resolve()),
        "resumed_images": len(done),
        "versions": _versions(),
        **job.extra_meta,
    }
    results: dict = {}

    def write_results(rows: list[dict], summary: dict) -> None:
        results.update(meta=meta, per_image=rows, summary=summary)
        write_json_atomic(work_dir / RESULTS_FILE, results)

    metric = metric_cls(workers=job.metric_workers)
    metric.previous_rows = done
    metric.on_row = journal.append
    metric.on_done = write_results
    if not pending:
        metric.compute_metrics([])
        return results
    _run(job, predictor, _Pending(dataset, pending), metric, len(done))
    return results


def _run(job: EvalJob, predictor: Predictor, dataset: Dataset, metric: Any, already_done: int) -> None:
    from mmengine.runner import Runner

    work_dir = Path(job.work_dir)
    runner = Runner(
        model=predictor,
        work_dir=str(work_dir / "logs"),
        test_dataloader=dict(dataset=dataset, batch_size=1, num_workers=job.num_workers,
                             persistent_workers=False, sampler=dict(type="DefaultSampler", shuffle=False),
                             collate_fn=dict(type="pseudo_collate")),
        test_cfg=dict(type="TestLoop"),
        test_evaluator=Evaluator([metric]),
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
    finally:
        metric.close()
