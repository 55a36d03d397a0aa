"""``write_report``: the runs read from their records, ``--out`` checked, the pictures made (or
taken from those ``matbench eval`` made), the page rendered, and both put in place."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from ..errors import InputError, MatbenchError
from ..io import atomic_write
from . import MARKER, pictures_folder
from .gallery import (RUN_PICTURES, ImageTask, RunSide, cache_folder, kept_pictures, prune_run_pictures,
                      render_all, run_key)
from .output import check_out, check_out_against
from .runs import ReportRun, input_files, load_runs, run_folders


def write_report(work_dirs: Sequence[Path], out: Path, top: int | None = None, unknown_only: bool = False,
                 prune_kept: bool = False) -> Path:
    """See :func:`matbench.report.write_report`."""
    from .colormap import lut
    from .page import build_context, gallery_columns, render_page, sort_key, worst_first

    out = Path(out)
    if top is not None and top < 1:
        raise MatbenchError(f"--top {top}: expected 1 or more images")
    check_out(out)
    runs = load_runs(work_dirs)
    check_out_against(out, input_files(runs), run_folders(runs))
    if unknown_only and any(runs[0].images[n].trimap is None for n in runs[0].rows):
        raise MatbenchError("--unknown-only: the run recorded no trimap for some images, so they have no "
                            "unknown region")
    names = worst_first(runs[0], sort_key(gallery_columns(runs)))
    shown = names[:top] if top else names
    folder = pictures_folder(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=out.parent))
    except OSError as exc:
        raise InputError(out.parent, f"cannot write the report here: {exc.strerror or exc}") from None
    try:
        os.chmod(staging, 0o777 & ~_umask())     # mkdtemp makes 0700; a report is for sharing
        (staging / MARKER).write_text("pictures of a matbench report; replaced when the report is written again\n")
        tasks = make_tasks(runs, shown, staging, unknown_only)
        pictures = _with_progress(tasks)
        html = render_page(build_context(runs, shown, pictures, folder, out, lut(), unknown_only))
        _replace_folder(staging, folder)
        atomic_write(out, lambda fh: fh.write(html), text=True)
        if prune_kept and not top and not unknown_only:
            for k, run in enumerate(runs):
                prune_run_pictures(run.work_dir / RUN_PICTURES, {t.runs[k].key for t in tasks})
    except OSError as exc:
        raise InputError(getattr(exc, "filename", None) or out, f"cannot write the report: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def make_tasks(runs: Sequence[ReportRun], shown: Sequence[str], folder: Path, unknown_only: bool = False) -> list[ImageTask]:
    """One picture task per image of the gallery: run 1's photo, trimap and ground truth, each
    run's prediction, and the pictures the runs' metric workers made of these very contents."""
    from ..content import file_sha256

    cache = cache_folder()
    stores = ([str(cache)] if cache else []) + [str(run.work_dir / RUN_PICTURES) for run in runs]
    tasks = []
    for i, name in enumerate(shown):
        first = runs[0].images[name]
        sides = []
        for run in runs:
            scored = run.images[name]
            kept = key = None
            if not unknown_only:
                pred_sha = scored.shas.get("prediction") or file_sha256(scored.prediction)
                alpha_sha = scored.shas.get("alpha") or file_sha256(scored.alpha)
                kept, key = kept_pictures(run.work_dir / RUN_PICTURES, pred_sha, alpha_sha), run_key(pred_sha, alpha_sha)
            sides.append(RunSide(prediction=scored.prediction, kept=kept, folder=str(run.work_dir / RUN_PICTURES),
                                 key=key))
        tasks.append(ImageTask(stem=f"{i + 1:04d}", folder=str(folder), photo=first.photo, alpha=first.alpha,
                               trimap=first.trimap, runs=sides, unknown_only=unknown_only,
                               shas={"alpha": first.shas.get("alpha"), "trimap": first.shas.get("trimap")},
                               stores=stores, cache=str(cache) if cache else None))
    return tasks


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _with_progress(tasks: list) -> list[dict]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("[bold]report pictures"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal or len(tasks) < 20) as progress:
        task = progress.add_task("pictures", total=len(tasks))
        return render_all(tasks, on_done=lambda: progress.advance(task))


def _replace_folder(staging: Path, folder: Path) -> None:
    """Put the new pictures in place of the old ones (the old folder goes only once the new is there)."""
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
        folder.rename(old / folder.name)
    staging.rename(folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    if sys.platform != "win32":
        os.chmod(folder, 0o777 & ~_umask())
