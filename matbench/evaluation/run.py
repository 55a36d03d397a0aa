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
from mmengine.registry import MODEL_WRAPPERS
from torch.utils.data import Dataset

from .. import __version__
from ..dist import barrier, init_processes
from ..errors import InputError, MatbenchError
from ..registry import DATASETS, METRICS, MODELS, build, lookup
from .journal import (Journal, check_same_run, digest, file_sha256, file_stamp, prepare_work_dir,
                      work_dir_lock, write_json_atomic, write_problem)
from .predictors import PredictionFolder, Predictor
from .progress import RichProgressHook

RESULTS_FILE = "results.json"
#: where a model's predictions are kept, relative to the work dir (``meta.predictions``)
PREDICTIONS_DIR = "predictions"
REPORT_FILE = "report.html"


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
    #: keep a model's predictions as WORK/predictions/<name>.png (8-bit), for reports and re-scoring
    save_predictions: bool = True
    #: write WORK/report.html next to results.json (the CLI asks for it unless --no-report)
    report: bool = False
    extra_meta: dict = field(default_factory=dict)


def _versions() -> dict:
    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__}


def _packages() -> dict[str, str]:
    """matbench and every plugin distribution, with their versions."""
    from importlib.metadata import PackageNotFoundError, version

    from ..plugins import load_plugins

    packages = {"matbench": __version__}
    for dist in sorted(set(load_plugins().values())):
        try:
            packages[dist] = version(dist)
        except (PackageNotFoundError, ValueError):
            packages[dist] = "unknown"
    return packages


def _resolved(cfg: dict) -> dict:
    """A dataset config with its data root as an absolute path: the run's identity must not
    depend on the directory the command was started from."""
    cfg = dict(cfg)
    if cfg.get("data_root"):
        cfg["data_root"] = os.path.realpath(cfg["data_root"])
    return cfg


def dataset_metainfo(name: str) -> dict:
    """The ``METAINFO`` a registered dataset class declares (empty when it declares none)."""
    return dict(getattr(lookup(DATASETS, name), "METAINFO", {}) or {})


def _test_label(predictor: Predictor, dataset: Any) -> str:
    """The "Test" cell: how predictions were made, marking trimaps the set did not ship."""
    label = predictor.test_label()
    generated = not getattr(dataset, "ships_trimaps", True)
    return f"{label} (generated)" if generated and getattr(predictor, "uses_trimap", False) else label


def _trimap_record(dataset: Any) -> dict:
    """Whether the trimaps scored with are the set's own or generated, and by which rule."""
    if getattr(dataset, "ships_trimaps", True):
        return {"source": "official"}
    from ..trimaps import NOTE

    return {"source": "generated", "rule": dataset.metainfo.get("trimap_rule"), "note": NOTE}


def run_identity(job: EvalJob, predictor: Predictor, metric_cls: type) -> dict:
    """What every row of the run depends on besides its own files."""
    source = predictor.describe()
    checkpoint = source.get("checkpoint")
    return {"variant": job.variant, "metric": f"{metric_cls.__module__}.{metric_cls.__qualname__}",
            "source": source, "packages": _packages(),
            "checkpoint_sha256": file_sha256(checkpoint) if checkpoint and os.path.isfile(checkpoint) else None}


def input_files(info: dict, predictor: Predictor) -> dict[str, list]:
    """Stamps of the files one image's row is computed from, by role (image, alpha, trimap,
    prediction ...)."""
    files = {key[:-len("_path")]: file_stamp(value) for key, value in info.items()
             if key.endswith("_path") and isinstance(value, str)}
    if not predictor.needs_image:
        files.pop("image", None)
    for role, path in predictor.input_files(info["name"]).items():
        files[role] = file_stamp(path)
    return files


def evaluate(job: EvalJob) -> dict:
    """Run `job`; returns the results dict also written to ``work_dir/results.json`` (an empty
    dict on the processes other than rank 0)."""
    init_processes(job.launcher)
    metric_cls = lookup(METRICS, job.variant)
    predictor: Predictor = build(MODELS, job.predictor)
    work_dir = prepare_work_dir(job.work_dir)
    with work_dir_lock(work_dir, hold=get_rank() == 0):
        dataset_cfg = dict(job.dataset)
        dataset_cfg.setdefault("pipeline", [dict(type="LoadMattingSample")] if predictor.needs_image else [])
        if dataset_metainfo(dataset_cfg["type"]).get("trimap_rule"):
            dataset_cfg.setdefault("trimap_cache", str(work_dir / "trimaps"))
        dataset = build(DATASETS, dataset_cfg)
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        names = [info["name"] for info in infos]
        if isinstance(predictor, PredictionFolder):
            predictor.check_names(names)
        groups = list(getattr(dataset, "groups", []))
        if job.save_predictions and not isinstance(predictor, PredictionFolder):
            predictor.save_dir = work_dir / PREDICTIONS_DIR
        metric_cls.check_dataset(infos, dataset_cfg["type"])
        journal = Journal(work_dir, rank=get_rank())
        identity = run_identity(job, predictor, metric_cls)
        run_digest = digest(identity)
        inputs = {info["name"]: {"run": run_digest, "files": input_files(info, predictor)} for info in infos}
        if get_rank() == 0:
            if job.restart:
                journal.clear()
                (work_dir / RESULTS_FILE).unlink(missing_ok=True)
            signature = {"variant": job.variant, "dataset": _resolved(job.dataset), "source": predictor.describe()}
            check_same_run(work_dir, signature, journal.has_rows() or (work_dir / RESULTS_FILE).exists())
        barrier()
        plan = journal.plan(names, inputs, run_digest)
        barrier()                  # every process has read the journal before any appends to it
        if plan.pending and get_rank() == 0:
            # results.json exists only while it is complete and current
            (work_dir / RESULTS_FILE).unlink(missing_ok=True)
        if (plan.reused or plan.recomputed or plan.unreadable) and get_rank() == 0:
            print(f"matbench: {work_dir}: {plan.describe(len(names))}", file=sys.stderr)

        meta = {
            "matbench_version": __version__,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "variant": job.variant,
            "label": job.label,
            "dataset": {"type": dataset_cfg["type"], "name": dataset.metainfo.get("name", dataset_cfg["type"]),
                        "title": dataset.metainfo.get("title", ""),
                        "data_root": str(dataset_cfg.get("data_root", "")), "num_images": len(names),
                        "config": job.dataset, "trimaps": _trimap_record(dataset)},
            "groups": groups,
            "source": predictor.describe(),
            "test": _test_label(predictor, dataset),
            "command": sys.argv,
            "work_dir": str(work_dir.resolve()),
            "predictions": (str(predictor.root.resolve()) if isinstance(predictor, PredictionFolder)
                            else PREDICTIONS_DIR if predictor.save_dir is not None else None),
            "resumed_images": len(plan.reused),
            "resume": {"reused": len(plan.reused), "recomputed": plan.recomputed},
            "identity": identity,
            "versions": _versions(),
            **job.extra_meta,
        }
        results: dict = {}

        def write_results(rows: list[dict], summary: dict) -> None:
            results.update(meta=meta, per_image=rows, summary=summary)
            write_json_atomic(work_dir / RESULTS_FILE, results)
            if job.report:
                _write_report(work_dir)

        metric = metric_cls(workers=job.metric_workers)
        metric.previous_rows = plan.reused
        metric.groups = groups
        metric.on_row = lambda row: journal.append(row, inputs[row["name"]])
        metric.on_done = write_results
        if not plan.pending:
            if get_rank() == 0:
                metric.compute_metrics([])
            return results
        with _disk_errors(work_dir):
            _run(job, predictor, _Pending(dataset, plan.pending), metric, len(plan.reused))
        return results


def _write_report(work_dir: Path) -> None:
    """The run's visual report next to its results; a failure costs the report, not the results."""
    from ..report import write_report

    try:
        write_report([work_dir], work_dir / REPORT_FILE)
    except MatbenchError as exc:
        print(f"matbench: warning: no report written: {exc}", file=sys.stderr)


def _run(job: EvalJob, predictor: Predictor, dataset: Dataset, metric: Any, already_done: int) -> None:
    from mmengine.runner import Runner

    work_dir = Path(job.work_dir)
    runner = Runner(
        model=predictor,
        work_dir=str(work_dir / "logs"),
        test_dataloader=dict(dataset=dataset, batch_size=1, num_workers=job.num_workers,
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
    finally:
        metric.close()


def _disk_errors(work_dir: Path) -> Any:
    """A context in which a full or read-only disk (mmengine writing its logs, say) is one line."""
    import contextlib
    import errno

    @contextlib.contextmanager
    def guard():
        try:
            yield
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES):
                raise
            raise InputError(exc.filename or work_dir, write_problem(exc)) from None

    return guard()
