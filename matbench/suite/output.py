"""What a suite makes of its finished pairs: the tables (one across datasets, then each dataset's)
printed and written to ``W/leaderboard.<ext>``, and one visual report per dataset
``W/<dataset>/report.html``."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from ..errors import MatbenchError

#: the leaderboard file of each format
LEADERBOARD_FILES = {"md": "leaderboard.md", "latex": "leaderboard.tex", "csv": "leaderboard.csv",
                     "html": "leaderboard.html"}
REPORT_FILE = "report.html"


def leaderboard_path(work_dir: Path, fmt: str) -> Path:
    return work_dir / LEADERBOARD_FILES[fmt]


def check_outputs(work_dir: Path, fmt: str, dataset_folders: Sequence[str], report: bool) -> None:
    """Refuse, before any work, a leaderboard or report file in the way that matbench did not write."""
    from ..leaderboard import check_out
    from ..report.output import check_out as check_report

    check_out(leaderboard_path(work_dir, fmt), fmt, [])
    if report:
        for folder in dataset_folders:
            check_report(work_dir / folder / REPORT_FILE)


def tables(results: Sequence[dict], fmt: str, pivot: str, ci: bool, datasets: int) -> str:
    """The table of ``pivot`` across datasets (when there are several), then the tables of each
    dataset (one numbering, LaTeX labels unique), as one text of format ``fmt``. CSV is the flat
    table only: a row per run and dataset with every metric (the pivot is one of its columns)."""
    from ..leaderboard import render

    per_dataset = render(results, fmt, ci=ci)
    if fmt == "csv" or datasets < 2:
        return per_dataset
    across = render(results, fmt, pivot=pivot, ci=ci)
    if fmt == "md":
        return f"## Across datasets\n\n{across}\n## Per dataset\n\n{per_dataset}"
    if fmt == "latex":      # one marker line (the same packages) for both
        return across + "\n" + per_dataset.split("\n", 1)[1]
    head, _, _ = across.rpartition("\n</body>")
    _, _, body = per_dataset.partition("<body>\n")
    return f"{head}\n{body}"


def write_leaderboard(text: str, work_dir: Path, fmt: str) -> Path:
    from ..leaderboard import write

    path = leaderboard_path(work_dir, fmt)
    write(text, path, fmt)
    return path


def remove_leaderboard(work_dir: Path, fmt: str) -> None:
    """Remove an earlier leaderboard when no pair finished now (:func:`check_outputs` found it is
    matbench's)."""
    leaderboard_path(work_dir, fmt).unlink(missing_ok=True)


def remove_report(page: Path) -> None:
    """Remove an earlier report of a dataset none of whose pairs finished now (its page and its
    pictures folder, which :func:`check_outputs` found are matbench's)."""
    import shutil

    from ..report import pictures_folder

    page.unlink(missing_ok=True)
    shutil.rmtree(pictures_folder(page), ignore_errors=True)


def write_dataset_report(work_dirs: Sequence[Path], out: Path) -> tuple[Path | None, str | None]:
    """The report of one dataset's runs; a failure costs the report (said in one line), not the suite."""
    from ..report import write_report

    try:
        return write_report(list(work_dirs), out), None
    except MatbenchError as exc:
        print(f"matbench: warning: no report written to {out}: {exc}", file=sys.stderr, flush=True)
        return None, str(exc)
