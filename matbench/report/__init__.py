"""The visual report of finished evaluation runs: one self-contained HTML page (no network, opens
from file://) and one folder of pictures beside it, ``<page stem>_files/``.

``runs`` reads what the runs recorded (results, the files each image was scored from, the
pictures their metric workers made), ``output`` guards where the page goes, ``gallery`` makes
the pictures (also inside ``matbench eval``'s metric workers), ``plots`` the SVG plots, ``page``
the template's context and ``build`` puts it together. This module imports none of them, so a
metric worker that makes pictures loads only ``gallery``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

__all__ = ["MARKER", "pictures_folder", "write_report"]

#: marks a pictures folder as the report's own, which a new report may replace
MARKER = ".matbench-report"


def pictures_folder(out: Path) -> Path:
    """The folder of the page's pictures: ``report.html`` -> ``report_files/``."""
    out = Path(out)
    return out.parent / f"{out.stem}_files"


def write_report(work_dirs: Sequence[Path], out: Path, top: int | None = None, unknown_only: bool = False,
                 prune_kept: bool = False) -> Path:
    """Write the report of the runs in ``work_dirs`` (one dataset, one metric variant) to ``out``
    and its pictures folder; ``top``: the gallery shows only that many images, worst first (by
    the first run's SAD, else its first metric, in the metric's direction); ``unknown_only``:
    error maps of the trimap's unknown region only; ``prune_kept`` (``matbench eval``'s own
    report): remove the run's kept pictures of contents it no longer scores. Returns ``out``."""
    from .build import write_report as build

    return build(work_dirs, out, top=top, unknown_only=unknown_only, prune_kept=prune_kept)
