"""Where ``leaderboard --out`` may write: never over an input, a run's own files or data, only over
a file that is itself a matbench leaderboard of the same format (or empty).

A leaderboard file is recognised by its first line(s): Markdown and LaTeX files matbench writes
start with a marker comment (``<!-- matbench leaderboard -->``, ``% matbench leaderboard``), its
HTML pages carry ``<!-- matbench leaderboard -->`` under the doctype, and a CSV is recognised by
its header row. Markdown written before the marker existed (``matbench demo``, a redirected
stdout) starts with ``**Table 1.`` and is recognised too.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import InputError
from .formats import MARKER

#: files ``matbench eval`` keeps in a work dir (besides its folders)
_RUN_FILES = ("results.json", "report.html", ".lock")
_RUN_FOLDERS = ("predictions", "trimaps")
_CSV_HEADS = ("variant,run,test,reference,dataset,num_images", "Model / run,Test")


def file_text(text: str, fmt: str) -> str:
    """The text as written to a file: Markdown gets its marker line (stdout stays as it was)."""
    return f"{MARKER['md']}\n{text}" if fmt == "md" else text


def leaderboard_format(path: Path) -> str | None:
    """The format of an existing matbench leaderboard file, "" for an empty file, else None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if not head:
        return ""
    try:
        lines = head.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None
    first = lines[0] if lines else ""
    if first.lower().startswith("<!doctype html>") and len(lines) > 1 and lines[1].strip() == MARKER["html"]:
        return "html"
    if first.strip() == MARKER["md"] or first.startswith("**Table "):
        return "md"
    if first.startswith(MARKER["latex"]):
        return "latex"
    if first.startswith(_CSV_HEADS):
        return "csv"
    return None


def _real(path: str | os.PathLike) -> Path:
    return Path(os.path.realpath(os.path.abspath(os.fspath(path))))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _run_folders(res: Mapping) -> list[tuple[Path, str]]:
    """(folder, what) a run owns or reads: its work dir, predictions and dataset folders."""
    meta = res.get("meta") if isinstance(res.get("meta"), Mapping) else {}
    folders: list[tuple[Path, str]] = []
    path = getattr(res, "path", None)
    work = meta.get("work_dir") if isinstance(meta.get("work_dir"), str) else None
    for w in [work, os.fspath(Path(path).parent) if path is not None else None]:
        if w:
            folders.append((_real(w), "work dir"))
    pred = meta.get("predictions")
    if isinstance(pred, str) and pred:
        base = Path(work) if work else (Path(path).parent if path is not None else None)
        if os.path.isabs(pred) or base is not None:
            folders.append((_real(pred if os.path.isabs(pred) else base / pred), "predictions folder"))
    dataset = meta.get("dataset") if isinstance(meta.get("dataset"), Mapping) else {}
    root = dataset.get("data_root")
    if isinstance(root, str) and root and os.path.isabs(root):
        folders.append((_real(root), "dataset folder"))
    return folders


def check_out(out: str | os.PathLike, fmt: str, results: Sequence[Mapping]) -> None:
    """Refuse, before anything is written, an ``--out`` that is an input results file, a file a
    run writes or reads, anything in a predictions or dataset folder, or an existing file that is
    not a matbench leaderboard of format ``fmt``."""
    target = _real(out)
    for res in results:
        path = getattr(res, "path", None)
        if path is not None and (_real(path) == target or _same_file(path, out)):
            raise InputError(out, "is one of the results files read; refusing to overwrite it (choose another --out)")
    if Path(out).is_dir():
        raise InputError(out, "is a folder; --out takes a file name")
    for res in results:
        for folder, what in _run_folders(res):
            if not _inside(target, folder):
                continue
            if what == "work dir":
                inner = target.relative_to(folder).parts
                if len(inner) == 1 and (inner[0] in _RUN_FILES or inner[0].startswith("per_image")):
                    raise InputError(out, f"is a file matbench eval keeps in the work dir {folder}; "
                                          "refusing to write there (choose another --out)")
                if len(inner) > 1 and inner[0] in _RUN_FOLDERS:
                    raise InputError(out, f"is inside {inner[0]}/ of the work dir {folder}, which matbench eval "
                                          "writes and reads; refusing to write there (choose another --out)")
            else:
                raise InputError(out, f"is inside the {what} {folder} of a run: a file added there changes what "
                                      "the next eval reads (choose another --out)")
    if Path(out).exists():
        found = leaderboard_format(Path(out))
        if found is None:
            how = (f"its first line is not the '{MARKER[fmt]}' marker" if fmt in MARKER
                   else "its first line is not the header row of matbench's CSV")
            raise InputError(out, f"exists and is not a matbench leaderboard ({how}); refusing to overwrite it "
                                  "(remove it or choose another --out)")
        if found and found != fmt:
            raise InputError(out, f"is a {found} leaderboard, not {fmt}; refusing to overwrite it with another format")


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
