"""Paper-style leaderboard tables from matbench results files and published reference rows.

``loading`` reads and validates results files, ``references`` the published rows plugins ship,
``model`` groups runs by (dataset, metric variant) into tables, ``formats`` writes them.
"""
from __future__ import annotations

import os
from typing import Sequence

from ..errors import InputError, MatbenchError
from ..io import atomic_write
from .formats import FORMATS, csv_text, html_page, latex, latex_escape, markdown
from .loading import check_results, load_results
from .model import Table, build_tables, flat_table, pivot_table

__all__ = ["FORMATS", "PAPER_REFERENCE", "Table", "build_tables", "check_results", "latex_escape",
           "load_results", "render", "write"]

#: the reference source ``--paper`` stands for (the plugin that ships it registers it)
PAPER_REFERENCE = "aim-readme"


def render(results: Sequence[dict], fmt: str = "md", paper: bool = False, combined: bool = False,
           references: Sequence[str] = (), pivot: str | None = None) -> str:
    """The leaderboard as text: ``fmt`` is md, latex, csv or html; ``references`` adds the rows
    of registered reference sources (``paper``: the AIM README's); ``pivot`` makes one table of
    that metric across datasets; ``combined`` puts the tables of a set side by side."""
    if fmt not in FORMATS:
        raise MatbenchError(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")
    references = list(dict.fromkeys([*references, *([PAPER_REFERENCE] if paper else [])]))
    if fmt == "csv":
        return csv_text(flat_table(results, references) if pivot is None
                        else pivot_table(results, pivot, references))
    tables = [pivot_table(results, pivot, references)] if pivot else build_tables(results, references, combined)
    return {"md": markdown, "latex": latex, "html": html_page}[fmt](tables)


def write(text: str, path: str | os.PathLike) -> None:
    """Write ``text`` to ``path`` atomically; a failure is an InputError naming the file."""
    try:
        atomic_write(path, lambda fh: fh.write(text), text=True)
    except OSError as exc:
        raise InputError(path, f"cannot write: {exc.strerror or exc}") from None
