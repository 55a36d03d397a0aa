"""Where a report may be written: never over a user's file. ``--out`` must be an HTML page that
does not exist yet, is empty, or is a page matbench wrote as a report; never an input of the runs
(a photo, a prediction, a results file ...) nor inside a dataset or predictions folder; its
pictures folder must be new or one matbench wrote (it holds :data:`MARKER`) and hold no input.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from . import MARKER, pictures_folder

#: the second line of every report page (after the doctype): how a page is recognised as one
PAGE_MARKER = "<!-- matbench report -->"
#: folders of a work dir that matbench eval writes and reads
_RUN_FOLDERS = ("predictions", "trimaps", "report_pictures", "logs")


def _real(path: str | os.PathLike) -> Path:
    return Path(os.path.realpath(os.path.abspath(os.fspath(path))))


def is_report_page(path: Path) -> bool:
    """Whether the file at ``path`` is empty or a page matbench wrote as a report (its marker
    line; or, for pages written before the marker, the generator tag and title of one)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(2048)
    except OSError:
        return False
    if not head:
        return True
    text = head.decode("utf-8", "replace")
    lines = text.splitlines()
    if len(lines) > 1 and lines[0].lower().startswith("<!doctype html>") and lines[1].strip() == PAGE_MARKER:
        return True
    return '<meta name="generator" content="matbench' in text and "<title>matbench report:" in text


def check_out(out: Path) -> None:
    """What can be refused before the runs are read: not a page name, a folder, an existing file
    that is not a report, a pictures folder that is not a report's."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(out, "--out is the report's HTML page: give a file name ending in .html")
    if out.is_dir():
        raise InputError(out, "is a directory: give the page's file name, e.g. report.html")
    if out.exists() and not out.is_file():
        raise InputError(out, "exists and is not a regular file: refusing to write the report there")
    if out.is_file() and not is_report_page(out):
        raise InputError(out, "exists and is not a page matbench wrote as a report: refusing to overwrite it "
                              "(remove it or choose another --out)")
    folder = pictures_folder(out)
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, "exists and is not a folder: the report's pictures would go there")
    if folder.is_dir() and not (folder / MARKER).is_file():
        raise InputError(folder, "exists and was not written by matbench report: not replacing it")


def check_out_against(out: Path, inputs: set[Path], folders: Sequence[tuple[Path, str]]) -> None:
    """Refuse an ``out`` that is one of the runs' ``inputs`` (files read or kept) or lies in a
    dataset or predictions folder (``folders``: (folder, what)), and a pictures folder holding any."""
    target, pictures = _real(out), _real(pictures_folder(out))
    if target in inputs or any(_same_file(out, p) for p in inputs if p.name == out.name):
        raise InputError(out, "is a file the runs read or keep: refusing to overwrite it (choose another --out)")
    for folder, what in folders:
        if what == "work dir":
            inner = target.relative_to(folder).parts if _inside(target, folder) else ()
            if len(inner) > 1 and inner[0] in _RUN_FOLDERS:
                raise InputError(out, f"is inside {inner[0]}/ of the work dir {folder}, which matbench eval writes "
                                      "and reads: refusing to write there (choose another --out)")
        elif _inside(target, folder):
            raise InputError(out, f"is inside the {what} {folder} of a run: refusing to add files there "
                                  "(choose another --out)")
        if _inside(folder, pictures):
            raise InputError(pictures, f"would replace the {what} {folder}: choose another --out")
    held = next((p for p in inputs if _inside(p, pictures)), None)
    if held is not None:
        raise InputError(pictures, f"holds {held}, a file the runs read: not replacing it (choose another --out)")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
