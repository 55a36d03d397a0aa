"""What a report shows, read from what the runs recorded: their results, and for each image the
files it was scored from as the run's journal recorded them (path and content hash, taken when
they were read) — never found again through a dataset plugin built from a results file's options
(a received results.json would choose which files are read and where trimaps are written).

A recorded path must lie in a folder the run declared: the dataset's folder (``meta.dataset.root``,
else the run's ``run.json``), the predictions folder (``meta.predictions``) or the work dir (its
generated trimaps and kept predictions; a moved work dir is followed). A file whose content is
no longer what was scored (by its recorded hash, whatever its modification time) is shown as it
is now and flagged.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import InputError, MatbenchError
from ..io import read_json

RESULTS_FILE = "results.json"
RUN_FILE = "run.json"
JOURNAL_GLOB = "per_image*.jsonl"
#: the key of a journal row's input record
INPUTS_KEY = "_inputs"
#: per-image fields that are not metrics
NOT_METRICS = {"name", "unknown_pixels"}
#: what a role is called on the page
ROLE_NAMES = {"alpha": "ground truth", "trimap": "trimap", "image": "photo", "prediction": "prediction"}


@dataclass
class Scored:
    """One image of one run: the files it was scored from (where they are now), which of them
    changed since, and the content hashes known without reading them again."""

    name: str
    alpha: str
    trimap: str | None
    photo: str | None
    prediction: str
    changed: list = field(default_factory=list)        # roles whose content is not what was scored
    missing: list = field(default_factory=list)        # roles recorded but not found (photo, trimap)
    shas: dict = field(default_factory=dict)           # role -> current content hash, where known
    stamps: dict = field(default_factory=dict)         # role -> recorded stamp


@dataclass
class ReportRun:
    """One finished evaluation run."""

    index: int                        # 0-based position in the report
    work_dir: Path
    results: dict
    label: str                        # its own label (meta.label, else the work dir's name)
    predictions: Path                 # the folder of <name>.png the run scored
    rows: dict = field(default_factory=dict)         # name -> per-image row
    images: dict = field(default_factory=dict)       # name -> Scored
    metric: dict = field(default_factory=dict)       # the variant's description (meta.metric)
    model_run: bool = False           # predictions kept by matbench eval (WORK/predictions)

    @property
    def meta(self) -> dict:
        return self.results["meta"]

    @property
    def shown(self) -> str:
        """How the page names the run: its number and label ("#2 knn"), unique even when labels are not."""
        return f"#{self.index + 1} {self.label}"

    @property
    def higher_is_better(self) -> set[str]:
        return {str(k) for k in self.metric.get("higher_is_better") or ()}

    def prediction(self, name: str) -> Path:
        return Path(self.images[name].prediction) if name in self.images else self.predictions / f"{name}.png"


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


def _real(path: str | os.PathLike) -> Path:
    return Path(os.path.realpath(os.path.abspath(os.fspath(path))))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _predictions_folder(work_dir: Path, meta: dict) -> Path:
    recorded = meta.get("predictions")
    if not recorded or not isinstance(recorded, str):
        raise InputError(work_dir, "the run kept no predictions (meta.predictions is empty): run matbench eval "
                                   "again with --save-predictions to have a report")
    if os.path.isabs(recorded):
        folder = _real(recorded)
    else:
        folder = _real(work_dir / recorded)
        if not _inside(folder, _real(work_dir)):
            raise InputError(work_dir / RESULTS_FILE, f"meta.predictions {recorded!r} leads out of the work dir: "
                                                      "refusing to read it")
    if not folder.is_dir():
        raise InputError(folder, "predictions folder of the run not found (moved or deleted?)")
    return folder


def variant_of(meta: dict) -> dict:
    """The metric variant's description: as the results file records it (``meta.metric``), else
    as its registered class declares it (older files), else empty."""
    desc = meta.get("metric")
    if isinstance(desc, dict) and desc.get("variant") == meta.get("variant"):
        return dict(desc)
    from ..registry import METRICS, lookup

    try:
        return dict(lookup(METRICS, meta["variant"]).describe())
    except (MatbenchError, AttributeError, TypeError):
        return {"variant": meta["variant"]}


def load_runs(work_dirs: Sequence[str | os.PathLike]) -> list[ReportRun]:
    """The runs of ``work_dirs``, checked: finished, one dataset and metric variant, the same
    images, and the files each image was scored from, from the runs' records."""
    from ..leaderboard import load_results

    if not work_dirs:
        raise MatbenchError("no runs given: name one or more work dirs of matbench eval")
    runs: list[ReportRun] = []
    seen: set[Path] = set()
    for given in work_dirs:
        path = _results_path(Path(given))
        work_dir = path.parent
        if work_dir.resolve() in seen:
            raise InputError(given, "the same run is given twice")
        seen.add(work_dir.resolve())
        results = load_results([path])[0]
        meta = results["meta"]
        source = meta.get("source") if isinstance(meta.get("source"), dict) else {}
        runs.append(ReportRun(index=len(runs), work_dir=work_dir, results=results,
                              label=str(meta.get("label") or work_dir.resolve().name),
                              predictions=_predictions_folder(work_dir, meta),
                              rows={str(row.get("name")): row for row in results["per_image"]},
                              metric=variant_of(meta), model_run=source.get("type") != "PredictionFolder"))
    _check_comparable(runs)
    stamps: dict[str, list] = {}
    for run in runs:
        _read_records(run, stamps)
    _compare_ground_truths(runs)
    return runs


def _dataset_name(run: ReportRun) -> str:
    dataset = run.meta.get("dataset")
    return str(dataset.get("name") or dataset.get("type")) if isinstance(dataset, dict) else "?"


def _check_comparable(runs: list[ReportRun]) -> None:
    """A report compares runs photo by photo: one dataset, one metric variant and the same images."""
    first = runs[0]
    for run in runs[1:]:
        if _dataset_name(run) != _dataset_name(first):
            raise MatbenchError(f"runs of different datasets cannot share a report: {first.work_dir} is on "
                                f"{_dataset_name(first)}, {run.work_dir} on {_dataset_name(run)} (make one report "
                                "per dataset; matbench leaderboard tabulates them together)")
        if run.meta["variant"] != first.meta["variant"]:
            raise MatbenchError(f"runs of different metric variants cannot share a report: {first.work_dir} is "
                                f"scored with '{first.meta['variant']}', {run.work_dir} with '{run.meta['variant']}' "
                                "(their numbers are not comparable; evaluate both with one --metric-variant)")
        if set(run.rows) != set(first.rows):
            only = sorted(set(run.rows) ^ set(first.rows))
            raise MatbenchError(f"{first.work_dir} and {run.work_dir} scored different images of "
                                f"{_dataset_name(first)} ({len(only)} in one only, e.g. {only[0]!r})")


# --------------------------------------------------------------------------- the runs' records

def _journal_records(work_dir: Path, meta: dict) -> dict[str, dict]:
    """Each image's input record from the journal: of the row the results were made from (the
    last one of the run's identity), else the image's last row."""
    from ..evaluation.journal import digest

    identity = meta.get("identity")
    wanted = digest(identity) if isinstance(identity, dict) else None
    matching: dict[str, dict] = {}
    last: dict[str, dict] = {}
    for path in sorted(work_dir.glob(JOURNAL_GLOB)):
        try:
            lines = path.read_bytes().splitlines()
        except OSError as exc:
            raise InputError(path, f"cannot read the run's journal: {exc.strerror or exc}") from None
        for line in lines:
            try:
                row = json.loads(line)
            except ValueError:
                continue                  # a line cut short by a kill
            record = row.get(INPUTS_KEY) if isinstance(row, dict) else None
            if not isinstance(record, dict) or not isinstance(row.get("name"), str):
                continue
            last[row["name"]] = record
            if wanted is not None and record.get("run") == wanted:
                matching[row["name"]] = record
    return {**last, **matching}


def _declared_roots(run: ReportRun) -> list[Path]:
    """The dataset folders the run declared (resolved), with the folders linked from its top level
    (a dataset whose image folder is a symbolic link to a disk elsewhere)."""
    dataset = run.meta.get("dataset") if isinstance(run.meta.get("dataset"), dict) else {}
    candidates = [dataset.get("root")]
    try:
        recorded = read_json(run.work_dir / RUN_FILE)
        candidates.append((recorded.get("dataset") or {}).get("data_root") if isinstance(recorded, dict) else None)
    except (InputError, AttributeError):
        pass
    candidates.append(dataset.get("data_root"))
    root = next((_real(c) for c in candidates if isinstance(c, str) and c and os.path.isabs(c)), None)
    if root is None:
        return []
    roots = [root]
    try:
        roots += [_real(entry) for entry in root.iterdir() if entry.is_symlink() and entry.is_dir()]
    except OSError:
        pass
    return roots


def _stamp_now(path: str, stamps: dict[str, list]) -> list:
    from ..content import file_stamp

    if path not in stamps:
        stamps[path] = file_stamp(path)
    return stamps[path]


def _content(recorded: Any, path: str, stamps: dict[str, list]) -> tuple[bool | None, str | None]:
    """(changed, current hash when known) of the file at ``path`` against its ``recorded`` stamp:
    by the recorded content hash when there is one, else (older journals) by size and time."""
    from ..content import same_content

    now = _stamp_now(path, stamps)
    if not isinstance(recorded, list) or len(recorded) < 3:
        return None, None
    if len(recorded) == 5 and recorded[4]:
        if same_content([now[0], *recorded[1:]], now):      # (where it is now: a moved work dir's file)
            return False, recorded[4]
        return True, now[4] if len(now) == 5 else None
    return list(recorded[1:3]) != list(now[1:3]), None


def _read_records(run: ReportRun, stamps: dict[str, list]) -> None:
    """Each image's files as the run recorded them, moved with a moved work dir, checked to lie
    in the folders the run declared, and compared with their content now."""
    meta = run.meta
    records = _journal_records(run.work_dir, meta)
    if not records:
        raise InputError(run.work_dir, "the run's journal (per_image.jsonl) records no files: a report shows "
                                       "the files a run scored, and this run has no record of them")
    work_now = _real(run.work_dir)
    then = meta.get("work_dir")
    work_then = _real(then) if isinstance(then, str) and os.path.isabs(then) else work_now
    data_roots = _declared_roots(run)

    def located(path: Any, role: str, name: str) -> str | None:
        if not isinstance(path, str) or not path:
            return None
        real = Path(path)
        if work_then != work_now and _inside(real, work_then):
            real = work_now / real.relative_to(work_then)      # the work dir was moved
        allowed = [run.predictions] if role == "prediction" else [*data_roots, work_now]
        if not any(_inside(real, folder) for folder in allowed):
            where = (f"its predictions folder {run.predictions}" if role == "prediction" else
                     f"its dataset folder {data_roots[0]} or its work dir" if data_roots else
                     "its work dir (the run declared no dataset folder)")
            raise InputError(real, f"the {ROLE_NAMES[role]} of {name!r} recorded by {run.work_dir} lies outside "
                                   f"{where}: refusing to read it")
        return str(real)

    results_time = (run.work_dir / RESULTS_FILE).stat().st_mtime
    for name in run.rows:
        record = records.get(name)
        if record is None:
            raise InputError(run.work_dir, f"image {name!r} of the results has no row in the run's journal: "
                                           "cannot tell which files it was scored from")
        files = record.get("files") if isinstance(record.get("files"), dict) else {}

        def path_of(role: str) -> str | None:
            stamp = files.get(role)
            return located(stamp[0] if isinstance(stamp, list) and stamp else None, role, name)

        alpha = path_of("alpha")
        if alpha is None:
            raise InputError(run.work_dir, f"the journal does not record the ground truth of {name!r}")
        photo = path_of("image") or located(record.get("photo"), "image", name)
        if run.model_run:
            prediction = located(str(run.predictions / f"{name}.png"), "prediction", name)
        else:
            prediction = path_of("prediction")
            if prediction is None:
                raise InputError(run.work_dir, f"the journal does not record the prediction of {name!r}")
        scored = Scored(name=name, alpha=alpha, trimap=path_of("trimap"), photo=photo, prediction=prediction,
                        stamps={role: files.get(role) for role in ("alpha", "trimap", "image", "prediction")})
        for role, path in (("prediction", prediction), ("alpha", alpha), ("trimap", scored.trimap), ("image", photo)):
            if path is None:
                continue
            if _stamp_now(path, stamps)[1] is None:
                if role in ("prediction", "alpha"):
                    what = "prediction missing" if role == "prediction" else "ground truth missing"
                    raise InputError(path, f"{what}: the run {run.label!r} scored it, but the file is no longer there")
                scored.missing.append(role)
                if role == "trimap":
                    scored.trimap = None
                else:
                    scored.photo = None
                continue
            changed, sha = _content(files.get(role), path, stamps)
            if changed:
                scored.changed.append(role)
            if sha:
                scored.shas[role] = sha
        if run.model_run and "prediction" not in files:
            # a kept prediction is an output of the row: its content was recorded as "kept" (older
            # journals: changed if written after the results)
            kept = record.get("kept")
            if isinstance(kept, list) and len(kept) == 5 and kept[4]:
                changed, sha = _content(kept, prediction, stamps)
                if changed:
                    scored.changed.append("prediction")
                if sha:
                    scored.shas["prediction"] = sha
            elif os.stat(prediction).st_mtime > results_time + 1:
                scored.changed.append("prediction")
        run.images[name] = scored


def _compare_ground_truths(runs: list[ReportRun]) -> None:
    """Flag an image whose ground truth (by content) differs from the first run's: the gallery
    shows the first run's."""
    first = runs[0]
    for run in runs[1:]:
        for name, scored in run.images.items():
            mine, theirs = scored.shas.get("alpha"), first.images[name].shas.get("alpha")
            if mine and theirs and mine != theirs and "alpha-differs" not in scored.changed:
                scored.changed.append("alpha-differs")


def run_folders(runs: Sequence[ReportRun]) -> list[tuple[Path, str]]:
    """(folder, what) the runs own or read: work dirs, predictions and dataset folders."""
    folders: list[tuple[Path, str]] = []
    for run in runs:
        folders += [(_real(run.work_dir), "work dir"), (run.predictions, "predictions folder")]
        folders += [(root, "dataset folder") for root in _declared_roots(run)[:1]]
    return list(dict.fromkeys(folders))


def input_files(runs: Sequence[ReportRun]) -> set[Path]:
    """Every file the runs recorded or keep: results, run record, journals, and each image's files."""
    files: set[Path] = set()
    for run in runs:
        files |= {_real(run.work_dir / name) for name in (RESULTS_FILE, RUN_FILE, ".lock")}
        files |= {_real(p) for p in run.work_dir.glob(JOURNAL_GLOB)}
        for scored in run.images.values():
            files |= {_real(p) for p in (scored.alpha, scored.trimap, scored.photo, scored.prediction) if p}
    return files
