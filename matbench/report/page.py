"""The report page: the runs, their leaderboard tables, plots and the gallery, rendered by the
Jinja2 template ``templates/report.html.j2`` into one self-contained HTML file."""
from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Sequence
from urllib.request import pathname2url

import numpy as np

from .. import __version__
from ..leaderboard import build_tables
from ..leaderboard.model import metric_columns
from . import plots
from .runs import ImageFiles, ReportRun

#: gallery items after this many (in the default order) load their pictures lazily
EAGER_ITEMS = 12
#: per-image fields that are not metrics
NOT_METRICS = {"name", "unknown_pixels"}


def _number(value: object, decimals: int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if decimals is None or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.{decimals}f}"


def gallery_columns(runs: Sequence[ReportRun]) -> list[tuple[str, str, int]]:
    """(key, header, decimals) of the per-image metrics: the variants' declared columns (those
    the gallery's tables show), then any other number the rows hold (to sort by)."""
    columns: list[tuple[str, str, int]] = []
    group_keys = {g["key"] for run in runs for g in run.meta.get("groups") or []}
    for run in runs:
        for column in metric_columns(run.meta["variant"], []):
            if column[0] not in [c[0] for c in columns]:
                columns.append(column)
    for run in runs:
        for row in run.rows.values():
            for key, value in row.items():
                if (key not in NOT_METRICS and key not in group_keys and not key.startswith("_")
                        and (value is None or isinstance(value, float)) and key not in [c[0] for c in columns]):
                    columns.append((key, key, 4 if key.startswith(("mse", "mad")) else 2))
    return columns


def sort_key(columns: Sequence[tuple[str, str, int]]) -> str:
    """The default sort metric: SAD where the runs have it."""
    keys = [c[0] for c in columns]
    return "sad" if "sad" in keys else keys[0]


def worst_first(run: ReportRun, metric: str) -> list[str]:
    """Image names by ``metric`` of ``run``, highest first, images without a value last."""
    def key(name: str) -> tuple:
        value = run.rows[name].get(metric)
        return (value is None, -(value if value is not None else 0.0), name)

    return sorted(run.rows, key=key)


def anchors(names: Sequence[str]) -> dict[str, str]:
    """An HTML id per image name, readable in a URL (``#img-<name>``) and unique."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = "img-" + re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        ids[name] = anchor
    return ids


def file_link(path: str | os.PathLike, page_dir: Path) -> str:
    """A link from the page to ``path``: relative (the page and the data move together), else a file URI."""
    try:
        return pathname2url(os.path.relpath(os.path.abspath(path), os.path.abspath(page_dir)))
    except ValueError:                      # another drive (Windows)
        return Path(path).resolve().as_uri()


def _colour_bar(lut: np.ndarray) -> str:
    stops = [f"rgb({r},{g},{b}) {100 * i / 10:.0f}%" for i, (r, g, b) in
             enumerate(lut[np.linspace(0, 255, 11).round().astype(int)])]
    return f"linear-gradient(to top, {', '.join(stops)})"


def _changed_predictions(run: ReportRun, names: Sequence[str]) -> int:
    """Prediction files modified after the run's results were written (not what was scored)."""
    written = (run.work_dir / "results.json").stat().st_mtime
    return sum(1 for name in names if run.prediction(name).stat().st_mtime > written + 1)


def _tables(runs: Sequence[ReportRun]) -> list[dict]:
    tables = []
    for t in build_tables([run.results for run in runs]):
        tables.append({"caption": t.caption, "headers": t.headers, "notes": t.notes,
                       "numeric": [d is not None for d in t.decimals],
                       "rows": [[_number(v, d) for v, d in zip(row, t.decimals)] for row in t.rows]})
    return tables


def _plots(runs: Sequence[ReportRun], names: Sequence[str], ids: dict[str, str], metric: str,
           header: str) -> list[dict]:
    labels = [run.label for run in runs]
    figures = []
    for group in runs[0].meta.get("groups") or []:
        means = [((run.results["summary"].get(group["key"]) or {}).get("sad") or {}) for run in runs]
        if any(v is not None for mean in means for v in mean.values()):
            figures.append({"title": f"Mean SAD per {group['key']}", "svg": plots.group_bars(group, labels, means)})
    values = [[run.rows[n].get(metric) for n in names] for run in runs]
    figures.append({"title": f"Distribution of per-image {header}",
                    "svg": plots.distribution(labels, values, header)})
    groups = runs[0].meta.get("groups") or []
    colour_by = next((g["key"] for g in groups if len(g["values"]) <= len(plots.GROUP_COLOURS)), None)
    for k, run in enumerate(runs[1:], 1):
        figures.append({"title": f"{header} per image: {run.label} vs {runs[0].label}",
                        "svg": plots.scatter(runs[0].label, run.label, values[0], values[k], names,
                                             [f"#{ids[n]}" if n in ids else None for n in names],
                                             [str(runs[0].rows[n].get(colour_by, "")) for n in names]
                                             if colour_by else None, header, salt=f"scatter-{k}")})
    return figures


def build_context(runs: Sequence[ReportRun], files: dict[str, ImageFiles], shown: Sequence[str],
                  pictures: Sequence[dict], folder: Path, page: Path, lut: np.ndarray) -> dict:
    """Everything the template shows; ``shown``: the gallery's images in their default order,
    ``pictures``: :func:`~matbench.report.gallery.render_image` of each."""
    page_dir = page.parent
    columns = gallery_columns(runs)
    declared = {c[0] for run in runs for c in metric_columns(run.meta["variant"], [])}
    table_columns = [c for c in columns if c[0] in declared] or columns
    metric = sort_key(columns)
    header = next(h for k, h, _ in columns if k == metric)
    all_names = worst_first(runs[0], metric)
    ids = anchors(shown)
    groups = [g for g in runs[0].meta.get("groups") or []]
    src = pathname2url(folder.name)

    def picture(entry: dict | None, original: str | None) -> dict | None:
        if entry is None:
            return None
        return {"src": f"{src}/{pathname2url(entry['file'])}", "width": entry["width"], "height": entry["height"],
                "href": file_link(original, page_dir) if original else None}

    items, data_items = [], []
    for rank, (name, pics) in enumerate(zip(shown, pictures), 1):
        image = files[name]
        item_runs = []
        for run, run_pics in zip(runs, pics["runs"]):
            row = run.rows[name]
            item_runs.append({"label": run.label,
                              "pred": picture(run_pics["pred"], str(run.prediction(name))),
                              "error": picture(run_pics["error"], None),
                              "error_max": run_pics["error_max"], "delta": "",
                              "cells": [_number(row.get(k), d) for k, _, d in table_columns]})
        first_sad = runs[0].rows[name].get(metric)
        for item_run, run in zip(item_runs[1:], runs[1:]):
            value = run.rows[name].get(metric)
            item_run["delta"] = f"{value - first_sad:+.3f}" if value is not None and first_sad is not None else ""
        items.append({"id": ids[name], "name": name, "rank": rank, "lazy": rank > EAGER_ITEMS,
                      "groups": [(g["key"], image.groups.get(g["key"], "")) for g in groups],
                      "size": f"{pics['width']}×{pics['height']}",
                      "photo": picture(pics["photo"], image.photo), "trimap": picture(pics["trimap"], image.trimap),
                      "alpha": picture(pics["alpha"], image.alpha), "runs": item_runs,
                      "vmax": _number(pics["vmax"], 3), "vmid": _number(pics["vmax"] / 2, 3)})
        data_items.append({"id": ids[name], "g": {g["key"]: image.groups.get(g["key"], "") for g in groups},
                           "m": [[run.rows[name].get(k) for k, _, _ in columns] for run in runs]})
    dataset = runs[0].meta.get("dataset") or {}
    run_infos = []
    for k, run in enumerate(runs):
        changed = _changed_predictions(run, shown)
        run_infos.append({"label": run.label, "test": run.meta.get("test", ""), "variant": run.meta["variant"],
                          "work_dir": str(run.work_dir.resolve()), "date": run.meta.get("date", ""),
                          "predictions": str(run.predictions.resolve()), "colour": plots.run_colour(k),
                          "predictions_href": file_link(run.predictions, page_dir),
                          "results_href": file_link(run.work_dir / "results.json", page_dir),
                          "warning": (f"{changed} prediction file(s) changed after this run was scored: "
                                      "their pictures may not show what was scored." if changed else "")})
    title = dataset.get("title") or dataset.get("name") or "dataset"
    return {
        "title": f"matbench report: {', '.join(r.label for r in runs)} on {title}",
        "version": __version__,
        "dataset": {"name": dataset.get("name", ""), "title": title, "num_images": len(all_names)},
        "runs": run_infos,
        "tables": _tables(runs),
        "plots": _plots(runs, all_names, {n: ids[n] for n in shown}, metric, header),
        "columns": [{"key": k, "header": h} for k, h, _ in columns],
        "metric_header": header,
        "table_headers": [h for _, h, _ in table_columns],
        "groups": [{"key": g["key"], "options": [(v, h) for v, h in g["values"].items()]
                    + [(v, v) for v in sorted({files[n].groups.get(g["key"], "") for n in shown}) if v not in g["values"]]}
                   for g in groups],
        "items": items,
        "shown": len(shown),
        "colour_bar": _colour_bar(lut),
        "data": {"metrics": [k for k, _, _ in columns], "runs": [r.label for r in runs],
                 "groups": [g["key"] for g in groups], "items": data_items,
                 "default": {"sort": metric, "run": "1", "order": "desc"}},
    }


def render_page(context: dict) -> str:
    """The HTML of the page."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("matbench.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(**context)
