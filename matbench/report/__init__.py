"""The visual report of finished evaluation runs: one self-contained HTML page (no network, opens
from file://) and one folder of pictures beside it, ``<page stem>_files/``.

``runs`` finds what to show (results, the scored predictions, the dataset's files), ``gallery``
makes the pictures, ``plots`` the SVG plots, ``page`` renders the Jinja2 template.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from ..errors import InputError, MatbenchError
from ..io import atomic_write
from .gallery import colormap_lut, make_tasks, render_all
from .page import build_context, gallery_columns, render_page, sort_key, worst_first
from .runs import load_runs, image_files

__all__ = ["write_report"]

#: marks a pictures folder as the report's own, which a new report may replace
MARKER = ".matbench-report"


def pictures_folder(out: Path) -> Path:
    """The folder of the page's pictures: ``report.html`` -> ``report_files/``."""
    return out.parent / f"{out.stem}_files"


def write_report(work_dirs: Sequence[Path], out: Path, top: int | None = None) -> Path:
    """Write the report of the runs in ``work_dirs`` (one dataset) to ``out`` and its pictures
    folder; ``top``: the gallery shows only that many images, worst first (by SAD of the first
    run). Returns ``out``."""
    out = Path(out)
    if top is not None and top < 1:
        raise MatbenchError(f"--top {top}: expected 1 or more images")
    if out.is_dir():
        raise InputError(out, "is a directory: give the page's file name, e.g. report.html")
    runs = load_runs(work_dirs)
    files = image_files(runs[0])
    names = worst_first(runs[0], sort_key(gallery_columns(runs)))
    shown = names[:top] if top else names
    folder = pictures_folder(out)
    if folder.exists() and not (folder / MARKER).exists():
        raise InputError(folder, "exists and was not written by matbench report: not replacing it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=out.parent))
    except OSError as exc:
        raise InputError(out.parent, f"cannot write the report here: {exc.strerror or exc}") from None
    try:
        os.chmod(staging, 0o777 & ~_umask())     # mkdtemp makes 0700; a report is for sharing
        (staging / MARKER).write_text("pictures of a matbench report; replaced when the report is written again\n")
        tasks = make_tasks([files[n] for n in shown], [[run.prediction(n) for run in runs] for n in shown], staging)
        pictures = _with_progress(tasks)
        html = render_page(build_context(runs, files, shown, pictures, folder, out, colormap_lut()))
        _replace_folder(staging, folder)
        atomic_write(out, lambda fh: fh.write(html), text=True)
    except OSError as exc:
        raise InputError(getattr(exc, "filename", None) or out, f"cannot write the report: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


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
