"""The evaluation: a dataset, a source of predictions and a metric variant, resumable, with a
results file at the end. A folder of predictions is scored by a plain loop feeding the metric
workers (no torch); a method or a network runs in mmengine's Runner (:mod:`.runner_loop`)."""
from __future__ import annotations

import datetime
import os
import platform
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..dist import barrier, get_rank, init_processes
from ..errors import InputError, MatbenchError
from ..registry import DATASETS, METRICS, build, lookup
from ..content import file_sha256, file_stamp
from .journal import (Journal, check_same_run, digest, prepare_work_dir, work_dir_lock, write_json_atomic,
                      write_problem)
from .metric import READ_FILES_KEY
from .sources import PredictionFolder, PredictionSource, build_source

RESULTS_FILE = "results.json"
#: where a model's predictions are kept, relative to the work dir (``meta.predictions``)
PREDICTIONS_DIR = "predictions"
REPORT_FILE = "report.html"
#: the work dir's cache of files derived from the dataset's (generated trimaps, converted mattes)
CACHE_DIR = "trimaps"


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
    #: torch's threads in the main process (a model's inference); None: torch's own default
    torch_threads: int | None = None
    launcher: str = "none"
    restart: bool = False
    #: keep a model's predictions as WORK/predictions/<name>.png (8-bit), for reports and re-scoring
    save_predictions: bool = True
    #: write WORK/report.html next to results.json (the CLI asks for it unless --no-report)
    report: bool = False
    extra_meta: dict = field(default_factory=dict)


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    torch = sys.modules.get("torch")
    try:
        torch_version = torch.__version__ if torch is not None else version("torch")
    except PackageNotFoundError:
        torch_version = None
    return {"python": platform.python_version(), "torch": torch_version, "numpy": np.__version__}


def _packages() -> dict[str, str]:
    """matbench and every installed plugin distribution, with their versions (from their metadata:
    no plugin is imported for it)."""
    from ..plugins import installed_plugins

    return {"matbench": __version__, **dict(installed_plugins())}


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


def _test_label(predictor: PredictionSource, dataset: Any) -> str:
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


#: dataset options that choose which images are listed or how they are loaded, not what a row's
#: values are (the files' contents and the labels are checked row by row)
_LISTING_OPTIONS = ("indices", "skip", "lazy_init", "labels_file", "pipeline", "trimap_cache", "test_mode",
                    "serialize_data", "metainfo")


def run_identity(job: EvalJob, predictor: PredictionSource, metric_cls: type, dataset_cfg: dict) -> dict:
    """What every row of the run depends on besides its own files: the variant, the metric's
    class and the code of the packages computing it, what makes the predictions (with the
    checkpoint's content), the dataset's options that can change a value."""
    from ..plugins import source_digest

    source = predictor.describe()
    checkpoint = source.get("checkpoint")
    options = {k: v for k, v in _resolved(dataset_cfg).items() if k not in _LISTING_OPTIONS}
    return {"variant": job.variant, "metric": f"{metric_cls.__module__}.{metric_cls.__qualname__}",
            "source": source, "dataset": options, "packages": _packages(),
            "code": source_digest([metric_cls, *predictor.code(), lookup(DATASETS, dataset_cfg["type"])]),
            # the metric's code alone: tables say when runs in one column were scored by different code
            "metric_code": source_digest([metric_cls]),
            "checkpoint_sha256": file_sha256(checkpoint) if checkpoint and os.path.isfile(checkpoint) else None}


def input_files(info: dict, predictor: PredictionSource) -> dict[str, list]:
    """Stamps (without hashes) of the files one image's row is computed from, by role (image,
    alpha, trimap, prediction ...)."""
    files = {key[:-len("_path")]: file_stamp(value) for key, value in info.items()
             if key.endswith("_path") and isinstance(value, str)}
    if not predictor.needs_image:
        files.pop("image", None)
    for role, path in predictor.input_files(info["name"]).items():
        files[role] = file_stamp(path)
    return files


def _record(files: dict[str, list], read: dict[str, list] | None) -> dict[str, list]:
    """A row's file stamps: those the process that read the files took at reading (with their
    hashes), the others as listed (hashed when journalled)."""
    read = read or {}
    return {role: read.get(role, stamp) for role, stamp in files.items()}


def _refresh_groups(rows: list[dict], infos: list[dict], groups: list[dict]) -> int:
    """Give reused rows their images' current group values (an edited labels file changes the
    groups, not the metric values); returns how many rows changed."""
    current = {info["name"]: info for info in infos}
    changed = 0
    for row in rows:
        info = current[row["name"]]
        values = {g["key"]: info.get(g["key"]) for g in groups}
        if any(row.get(k) != v for k, v in values.items()):
            row.update(values)
            changed += 1
    return changed


def evaluate(job: EvalJob) -> dict:
    """Run `job`; returns the results dict also written to ``work_dir/results.json`` (an empty
    dict on the processes other than rank 0)."""
    init_processes(job.launcher)
    metric_cls = lookup(METRICS, job.variant)
    predictor: PredictionSource = build_source(job.predictor)
    work_dir = prepare_work_dir(job.work_dir)
    _compile_kernels_once(metric_cls)
    metric = metric_cls(workers=job.metric_workers)
    if job.report:      # imported before the metric workers fork: they make the report's pictures
        import matbench.report.gallery  # noqa: F401
    # the metric workers start first: they warm up while the dataset is listed and the journal read
    with work_dir_lock(work_dir, hold=get_rank() == 0), metric:
        if job.restart and get_rank() == 0:
            shutil.rmtree(work_dir / CACHE_DIR, ignore_errors=True)
        barrier()
        dataset_cfg = dict(job.dataset)
        dataset_cfg.setdefault("pipeline", [dict(type="LoadMattingSample")] if predictor.needs_image else [])
        if dataset_metainfo(dataset_cfg["type"]).get("trimap_rule"):
            dataset_cfg.setdefault("trimap_cache", str(work_dir / CACHE_DIR))
        dataset = build(DATASETS, dataset_cfg)
        infos = [dataset.get_data_info(i) for i in range(len(dataset))]
        names = [info["name"] for info in infos]
        if isinstance(predictor, PredictionFolder):
            predictor.check_names(names)
        groups = list(getattr(dataset, "groups", []))
        if job.save_predictions and not isinstance(predictor, PredictionFolder):
            predictor.save_dir = claim_predictions_dir(work_dir / PREDICTIONS_DIR, get_rank() == 0)
        metric_cls.check_dataset(infos, dataset_cfg["type"])
        journal = Journal(work_dir, rank=get_rank())
        identity = run_identity(job, predictor, metric_cls, dataset_cfg)
        run_digest = digest(identity)
        # "photo": the photo a report shows, also where the row does not depend on it (not compared on resume)
        inputs = {info["name"]: {"run": run_digest, "files": input_files(info, predictor),
                                 "photo": os.path.realpath(info["image_path"]) if info.get("image_path") else None}
                  for info in infos}
        if get_rank() == 0:
            if job.restart:
                journal.clear()
                (work_dir / RESULTS_FILE).unlink(missing_ok=True)
            # options that only choose which images are listed (indices, skip, labels) do not make another run
            listed = {k: v for k, v in _resolved(job.dataset).items() if k not in _LISTING_OPTIONS}
            signature = {"variant": job.variant, "dataset": listed, "source": predictor.describe()}
            check_same_run(work_dir, signature, journal.has_rows() or (work_dir / RESULTS_FILE).exists())
        barrier()
        plan = journal.plan(names, inputs, run_digest)
        regrouped = _refresh_groups(plan.reused, infos, groups)
        barrier()                  # every process has read the journal before any appends to it
        if plan.pending and get_rank() == 0:
            # results.json exists only while it is complete and current
            (work_dir / RESULTS_FILE).unlink(missing_ok=True)
        if (plan.reused or plan.recomputed or plan.unreadable) and get_rank() == 0:
            regroup_note = f"; {regrouped} with new group values from the labels" if regrouped else ""
            print(f"matbench: {work_dir}: {plan.describe(len(names))}{regroup_note}", file=sys.stderr)

        meta = {
            "matbench_version": __version__,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "variant": job.variant,
            "label": job.label,
            "dataset": {"type": dataset_cfg["type"], "name": dataset.metainfo.get("name", dataset_cfg["type"]),
                        "title": dataset.metainfo.get("title", ""),
                        "data_root": str(dataset_cfg.get("data_root", "")), "num_images": len(names),
                        # the folder the dataset's files were found in, resolved (a report reads nothing outside it)
                        "root": os.path.realpath(dataset.data_root) if getattr(dataset, "data_root", None) else None,
                        "config": job.dataset, "trimaps": _trimap_record(dataset)},
            "groups": groups,
            "source": predictor.describe(),
            "metric": metric_cls.describe(),
            "published_as": predictor.published_as(),
            "test": _test_label(predictor, dataset),
            "command": sys.argv,
            "work_dir": str(work_dir.resolve()),
            "predictions": (str(predictor.root.resolve()) if isinstance(predictor, PredictionFolder)
                            else PREDICTIONS_DIR if predictor.save_dir is not None else None),
            "resumed_images": len(plan.reused),
            "resume": {"reused": len(plan.reused), "recomputed": plan.recomputed, "regrouped": regrouped},
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

        metric.previous_rows = plan.reused
        metric.groups = groups
        if job.report and (isinstance(predictor, PredictionFolder) or predictor.save_dir is not None):
            from ..report.gallery import picture_config

            metric.pictures = picture_config(work_dir, predictor.save_dir)   # made by the metric workers
        def journal_row(row: dict) -> None:
            record = inputs[row["name"]]
            kept = {}
            if predictor.save_dir is not None and not isinstance(predictor, PredictionFolder):
                # the 8-bit prediction kept for reports (an output of the row, not an input of it)
                kept["kept"] = file_stamp(predictor.save_dir / f"{row['name']}.png", with_hash=True)
            journal.append(row, {**record, **kept, "files": _record(record["files"], row.pop(READ_FILES_KEY, None))})

        metric.on_row = journal_row
        metric.on_done = write_results
        if not plan.pending:
            if get_rank() == 0:
                metric.compute_metrics([])
            return results
        with _disk_errors(work_dir):
            if isinstance(predictor, PredictionFolder):
                _score_folder(job, predictor, dataset, plan.pending, metric, len(plan.reused))
            else:
                from .runner_loop import run_with_runner

                run_with_runner(job, predictor, dataset, plan.pending, metric, len(plan.reused))
        return results


#: the file that says a predictions folder is matbench's own (what it writes there may replace
#: what it wrote before, never anything else)
PREDICTIONS_MARKER = ".matbench-predictions"


def claim_predictions_dir(folder: Path, create: bool) -> Path:
    """The work dir's folder of a model's predictions, refused when it holds files matbench did
    not write there (a folder without the marker that is not empty)."""
    marker = folder / PREDICTIONS_MARKER
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise InputError(folder, "matbench keeps a model's predictions here, but this is not a plain folder; "
                                 "move it away or choose another --work-dir")
    if folder.is_dir() and not marker.is_file() and any(folder.iterdir()):
        raise InputError(folder, "holds files matbench did not write; a model's predictions would overwrite "
                                 "them: move them away or choose another --work-dir")
    if create:
        folder.mkdir(parents=True, exist_ok=True)
        if not marker.is_file():
            marker.write_text("matbench writes a model's predictions here (8-bit PNGs it scored)\n")
    return folder


def _compile_kernels_once(metric_cls: type) -> None:
    """A variant whose compiled kernels are not in numba's cache yet (the first run after an
    install) is compiled here, said in one line, before the metric workers start: they inherit
    it rather than each compiling it again behind a frozen progress bar."""
    from ..kernels import compile_kernels, uncompiled

    if uncompiled(metric_cls):
        compile_kernels(metric_cls, say=lambda text: print(text, file=sys.stderr, flush=True) if get_rank() == 0 else None)


def _write_report(work_dir: Path) -> None:
    """The run's visual report next to its results; a failure costs the report, not the results."""
    from ..report import write_report

    try:
        write_report([work_dir], work_dir / REPORT_FILE, prune_kept=True)
    except MatbenchError as exc:
        print(f"matbench: warning: no report written: {exc}", file=sys.stderr)


def _score_folder(job: EvalJob, predictions: PredictionFolder, dataset: Any, pending: list[int],
                  metric: Any, already_done: int) -> None:
    """Score the samples at `pending` against a folder of predictions: each process takes every
    world-size-th one (as the Runner's unpadded sampler would), its metric workers read the files."""
    from ..dist import get_world_size
    from ..io import warn_misnamed
    from .progress import ProgressBar

    rank, world = get_rank(), get_world_size()
    mine = pending[rank::world]
    if job.report and rank == 0:
        # the report's libraries load while this process waits for the metric workers
        _import_in_background("matbench.report.build", "matbench.report.page", "matplotlib.figure",
                              "matplotlib.backends.backend_svg")
    bar = ProgressBar(f"{job.label or 'evaluating'} ({job.variant})", len(pending) + already_done,
                      already_done) if rank == 0 else None
    finish = metric.on_row

    def on_row(row: dict) -> None:
        finish(row)
        if bar is not None:
            bar.advance(world)

    metric.on_row = on_row
    try:
        for index in mine:
            sample = dataset[index]
            predictions.attach(sample)
            # a file in another format than its name says is reported here, once: the metric
            # workers, started before the predictions were checked, do not report it
            for key in ("alpha_path", "trimap_path"):
                warn_misnamed(sample[key])
            metric.process(None, [sample])
        metric.evaluate(len(pending))
    finally:
        if bar is not None:
            bar.stop()


def _import_in_background(*modules: str) -> None:
    """Import `modules` in a daemon thread (an import error is left to the code that needs
    them). Only where no process is forked afterwards: a child would inherit the thread's
    module locks."""
    import importlib
    import threading

    def load() -> None:
        for module in modules:
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 - the report says what went wrong when it runs
                return

    threading.Thread(target=load, name="matbench-prefetch", daemon=True).start()


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
