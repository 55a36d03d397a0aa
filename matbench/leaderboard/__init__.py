"""Paper-style leaderboard tables from matbench results files and published reference rows.

``loading`` reads and validates results files, ``references`` the published rows plugins ship,
``variants`` what a metric variant declares, ``runs`` makes table rows (every number recomputed
from the per-image rows), ``model`` lays them out in tables, ``compare`` adds intervals and
paired tests (:mod:`matbench.stats`), ``formats`` writes them and ``output`` guards ``--out``.
"""
from __future__ import annotations

import os
from typing import Sequence

from ..errors import InputError, MatbenchError
from ..io import atomic_write
from .compare import add_baseline, add_intervals, baseline_runs
from .formats import FORMATS, csv_text, html_page, latex, latex_escape, markdown
from .loading import check_results, load_results
from .model import (Layout, Table, build_tables, flat_of_sets, flat_table, pivot_of_sets, pivot_table,
                    resolve_columns, tables_of_sets)
from .output import check_out, file_text
from .runs import table_sets

__all__ = ["FORMATS", "PAPER_REFERENCE", "Table", "build_tables", "check_out", "check_results", "file_text",
           "flat_table", "latex_escape", "load_results", "pivot_table", "render", "write"]

#: the reference source ``--paper`` stands for (the plugin that ships it registers it)
PAPER_REFERENCE = "aim-readme"


def render(results: Sequence[dict], fmt: str = "md", paper: bool = False, combined: bool = False,
           references: Sequence[str] = (), pivot: str | None = None, *, ci: bool = False,
           baseline: str | None = None, columns: str | Sequence[str] | None = None, scale_mse: bool = False,
           best: bool = False, trust_summary: bool = False) -> str:
    """The leaderboard as text: ``fmt`` is md, latex, csv or html; ``references`` adds the rows
    of registered reference sources (``paper``: the AIM README's); ``pivot`` makes one table of
    that metric across datasets; ``combined`` puts the tables of a set side by side.

    ``ci`` adds bootstrap intervals of the means, ``baseline`` (a run's label) marks the runs
    significantly better or worse than it, ``columns`` chooses and orders the metric and group
    columns, ``scale_mse`` shows MSE and MAD x 10^3, ``best`` marks the best and second-best value
    of each column, ``trust_summary`` shows files without per-image rows from their stored summary.
    """
    if fmt not in FORMATS:
        raise MatbenchError(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")
    references = list(dict.fromkeys([*references, *([PAPER_REFERENCE] if paper else [])]))
    sets = table_sets(results, references, trust_summary)
    if pivot is not None and columns is not None:
        raise MatbenchError("--columns chooses the columns of the per-dataset tables; --pivot shows one metric")
    chosen = resolve_columns(columns, sets)
    bases = baseline_runs(sets, baseline) if baseline is not None else []
    if pivot is not None:
        tables = [pivot_of_sets(sets, pivot, scale_mse)]
    elif fmt == "csv":
        tables = [flat_of_sets(sets, chosen)]
    else:
        tables = tables_of_sets(sets, combined, Layout(chosen, scale_mse))
        if not tables:
            raise MatbenchError("--columns: no table has any of these columns")
    if baseline is not None:
        add_baseline(tables, bases)
    if ci:
        add_intervals(tables)
    if fmt == "csv":
        return csv_text(tables[0])
    return {"md": markdown, "latex": latex, "html": html_page}[fmt](tables, best=best)


def write(text: str, path: str | os.PathLike, fmt: str | None = None) -> None:
    """Write ``text`` to ``path`` atomically (``fmt``: the leaderboard's format, so that the file
    carries matbench's marker; see :mod:`.output`); a failure is an InputError naming the file."""
    text = file_text(text, fmt) if fmt else text
    try:
        atomic_write(path, lambda fh: fh.write(text), text=True)
    except OSError as exc:
        raise InputError(path, f"cannot write: {exc.strerror or exc}") from None
