"""What a report shows, found from finished runs: their results, the prediction files they scored
and, through the dataset plugin, each image's photo, trimap and ground truth."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..errors import InputError, MatbenchError
from ..io import read_json
from ..leaderboard import check_results

RESULTS_FILE = "results.json"
RUN_FILE = "run.json"


@dataclass
class ReportRun:
    """One finished evaluation run."""

    work_dir: Path
    results: dict
    label: str
    predictions: Path                 # the folder of <name>.png the run scored
    rows: dict = field(default_factory=dict)   # name -> per-image row

    @property
    def meta(self) -> dict:
        return self.results["meta"]

    def prediction(self, name: str) -> Path:
        return self.predictions / f"{name}.png"


@dataclass
class ImageFiles:
    """One image of the dataset: its files and its group values."""

    name: str
    photo: str
    alpha: str
    trimap: str | None
    groups: dict


def _results_path(work_dir: Path) -> Path:
    path = Path(work_dir)
    if path.is_file() and path.name == RESULTS_FILE:     # a results.json given for its run
        path = path.parent
    if not path.exists():
        raise InputError(path, "work dir not found")
    if not path.is_dir():
        raise InputError(path, "not a work dir (expected the folder of a matbench eval run)")
    if not (path / RESULTS_FILE).is_file():
        raise InputError(path, "no results.json: not a finished evaluation run (run matbench eval first)")
    return path / RESULTS_FILE


def _predictions_folder(work_dir: Path, meta: dict) -> Path:
    recorded = meta.get("predictions")
    if not recorded or not isinstance(recorded, str):
        raise InputError(work_dir, "the run kept no predictions (meta.predictions is empty): run matbench eval "
                                   "again with --save-predictions to have a report")
    folder = Path(recorded)
    folder = folder if folder.is_absolute() else work_dir / folder
    if not folder.is_dir():
        raise InputError(folder, "predictions folder of the run not found (moved or deleted?)")
    return folder


def load_runs(work_dirs: Sequence[str | os.PathLike]) -> list[ReportRun]:
    """The runs of ``work_dirs``, checked: finished, with their predictions, one dataset, the same images."""
    if not work_dirs:
        raise MatbenchError("no runs given: name one or more work dirs of matbench eval")
    runs: list[ReportRun] = []
    seen: dict[Path, Path] = {}
    for given in work_dirs:
        path = _results_path(Path(given))
        work_dir = path.parent
        if work_dir.resolve() in seen:
            raise InputError(given, "the same run is given twice")
        seen[work_dir.resolve()] = work_dir
        results = read_json(path)
        check_results(results, path)
        meta = results["meta"]
        label = str(meta.get("label") or work_dir.resolve().name)
        runs.append(ReportRun(work_dir=work_dir, results=results, label=label,
                              predictions=_predictions_folder(work_dir, meta),
                              rows={str(row.get("name")): row for row in results["per_image"]}))
    _unique_labels(runs)
    _check_comparable(runs)
    for run in runs:
        for name in run.rows:
            if not run.prediction(name).is_file():
                raise InputError(run.prediction(name), f"prediction missing: the run {run.label!r} scored it, "
                                                       "but the file is no longer there")
    return runs


def _unique_labels(runs: list[ReportRun]) -> None:
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.label] = counts.get(run.label, 0) + 1
        if counts[run.label] > 1:
            run.label = f"{run.label} ({counts[run.label]})"


def _dataset_name(run: ReportRun) -> str:
    dataset = run.meta.get("dataset")
    return str(dataset.get("name") or dataset.get("type")) if isinstance(dataset, dict) else "?"


def _check_comparable(runs: list[ReportRun]) -> None:
    """A report compares runs photo by photo: one dataset and the same images, or it is refused."""
    first = runs[0]
    for run in runs[1:]:
        if _dataset_name(run) != _dataset_name(first):
            raise MatbenchError(f"runs of different datasets cannot share a report: {first.work_dir} is on "
                                f"{_dataset_name(first)}, {run.work_dir} on {_dataset_name(run)} (make one report "
                                "per dataset; matbench leaderboard tabulates them together)")
        if set(run.rows) != set(first.rows):
            only = sorted(set(run.rows) ^ set(first.rows))
            raise MatbenchError(f"{first.work_dir} and {run.work_dir} scored different images of "
                                f"{_dataset_name(first)} ({len(only)} in one only, e.g. {only[0]!r})")


def _dataset_config(run: ReportRun) -> dict:
    """The run's dataset config with a data root that does not depend on the current directory:
    run.json records it resolved (results.json as the user typed it)."""
    dataset = run.meta.get("dataset")
    config = dict(dataset.get("config") or {}) if isinstance(dataset, dict) else {}
    if not config.get("type"):
        raise InputError(run.work_dir / RESULTS_FILE, "meta.dataset.config is missing: cannot find the photos")
    root = config.get("data_root")
    if root and not os.path.isabs(root):
        try:
            recorded = read_json(run.work_dir / RUN_FILE).get("dataset", {}).get("data_root")
        except (InputError, AttributeError):
            recorded = None
        config["data_root"] = recorded or os.path.abspath(root)
    return config


def image_files(run: ReportRun) -> dict[str, ImageFiles]:
    """Each image's photo, ground truth and trimap, from the dataset plugin that ``run`` used
    (generated trimaps from the run's cache, WORK/trimaps)."""
    from ..evaluation.run import dataset_metainfo
    from ..registry import DATASETS, build

    config = {**_dataset_config(run), "pipeline": []}
    if dataset_metainfo(config["type"]).get("trimap_rule"):
        config.setdefault("trimap_cache", str(run.work_dir / "trimaps"))
    try:
        dataset = build(DATASETS, config)
    except MatbenchError as exc:
        raise MatbenchError(f"{run.work_dir}: cannot open the run's dataset to show its photos: {exc}") from None
    keys = [g["key"] for g in run.meta.get("groups") or []]
    files = {}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        files[info["name"]] = ImageFiles(name=info["name"], photo=info["image_path"], alpha=info["alpha_path"],
                                         trimap=info.get("trimap_path"),
                                         groups={k: str(run.rows.get(info["name"], info).get(k, "")) for k in keys})
    missing = [name for name in run.rows if name not in files]
    if missing:
        raise MatbenchError(f"{run.work_dir}: image {missing[0]!r} of the results is not in the dataset at "
                            f"{config.get('data_root') or config['type']} any more")
    return files
