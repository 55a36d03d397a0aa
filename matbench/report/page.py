"""The report page: the runs, their leaderboard tables with intervals, the paired comparison of
each run with the first, plots and the gallery, rendered by the Jinja2 template
``templates/report.html.j2`` into one self-contained HTML file."""
from __future__ import annotations

import functools
import math
import os
import re
from pathlib import Path
from typing import Sequence
from urllib.request import pathname2url

import numpy as np

from .. import __version__
from . import plots
from .runs import NOT_METRICS, ROLE_NAMES, ReportRun

#: gallery items after this many (in the default order) load their pictures lazily
EAGER_ITEMS = 12
CONFIDENCE = 0.95
RESAMPLES = 2000
ALPHA = 0.05


def _number(value: object, decimals: int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if decimals is None or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.{decimals}f}"


# --------------------------------------------------------------------------- metrics and order

def gallery_columns(runs: Sequence[ReportRun]) -> list[tuple[str, str, int]]:
    """(key, header, decimals) of the per-image metrics: the variant's declared columns, its
    other keys, then any other number the rows hold (to sort by)."""
    columns: list[tuple[str, str, int]] = []
    seen: set[str] = set()

    def add(key: str, header: str, decimals: int) -> None:
        if key not in seen:
            seen.add(key)
            columns.append((key, header, decimals))

    group_keys = {g["key"] for run in runs for g in run.meta.get("groups") or []}
    for run in runs:
        desc = run.metric
        for key, header, decimals in desc.get("columns") or ():
            add(str(key), str(header), int(decimals))
        for key in desc.get("keys") or ():
            header, decimals = (desc.get("headers") or {}).get(key, (key, _default_decimals(key)))
            add(str(key), str(header), int(decimals))
    for run in runs:
        for row in run.rows.values():
            for key, value in row.items():
                if (key not in NOT_METRICS and key not in group_keys and not key.startswith("_")
                        and (value is None or isinstance(value, float))):
                    add(key, key, _default_decimals(key))
    return columns


def _default_decimals(key: str) -> int:
    return 4 if key.startswith(("mse", "mad")) else 2


def sort_key(columns: Sequence[tuple[str, str, int]]) -> str:
    """The default sort metric: SAD where the runs have it, else the first column."""
    keys = [c[0] for c in columns]
    return "sad" if "sad" in keys else keys[0]


def worst_first(run: ReportRun, metric: str) -> list[str]:
    """Image names by ``metric`` of ``run``, worst first in the metric's direction (highest
    first for an error, lowest first where higher is better), images without a value last."""
    sign = 1.0 if metric in run.higher_is_better else -1.0

    def key(name: str) -> tuple:
        value = run.rows[name].get(metric)
        return (value is None, sign * (value if value is not None else 0.0), name)

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


# --------------------------------------------------------------------------- tables and statistics

def _plus_minus(value: float | None, ci: tuple | None, decimals: int | None) -> dict:
    text = _number(value, decimals)
    if ci is None or value is None or decimals is None:
        return {"text": text, "title": ""}
    lo, hi = ci
    return {"text": f"{text} ± {(hi - lo) / 2:.{decimals}f}",
            "title": f"{CONFIDENCE * 100:g} % interval: {lo:.{decimals}f} to {hi:.{decimals}f}"}


def _tables(runs: Sequence[ReportRun]) -> list[dict]:
    """The tables of ``matbench leaderboard`` (runs named "#n label"), each mean with its
    bootstrap interval."""
    from ..leaderboard import build_tables
    from ..leaderboard.compare import add_intervals

    results = [{**run.results, "meta": {**run.meta, "label": run.shown}} for run in runs]
    tables = build_tables(results)
    add_intervals(tables, confidence=CONFIDENCE, resamples=RESAMPLES)
    out = []
    for t in tables:
        cis = t.cis or [[None] * len(t.headers) for _ in t.rows]
        out.append({"caption": t.caption, "headers": t.headers, "notes": t.notes,
                    "numeric": [d is not None for d in t.decimals],
                    "rows": [[_plus_minus(v, ci, d) if d is not None else {"text": _number(v, d), "title": ""}
                              for v, d, ci in zip(row, t.decimals, row_cis)] for row, row_cis in zip(t.rows, cis)]})
    return out


def _p_text(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def pairwise(runs: Sequence[ReportRun], columns: Sequence[tuple[str, str, int]]) -> dict | None:
    """Each run against the first, per metric key of the variant: the mean difference (run − #1)
    with its paired bootstrap interval, wins / ties / losses, the Wilcoxon signed-rank p and its
    significance after Holm's correction across the runs compared (per key)."""
    from ..stats import compare_to_baseline

    if len(runs) < 2:
        return None
    keys = [c for c in columns if c[0] in set(runs[0].metric.get("keys") or [c[0] for c in columns])]
    higher = runs[0].higher_is_better
    result = compare_to_baseline([run.rows for run in runs], 0, [k for k, _, _ in keys], higher, ALPHA)
    blocks = []
    for key, header, decimals in keys:
        rows = []
        for k, run in enumerate(runs[1:], 1):
            paired, mark = result[(k, key)]
            if not paired.n:
                rows.append({"run": run.shown, "colour": plots.run_colour(k), "diff": "", "interval": "",
                             "wtl": "", "p": "", "mark": "", "n": 0})
                continue
            d = decimals + 1
            rows.append({"run": run.shown, "colour": plots.run_colour(k), "diff": f"{paired.mean_diff:+.{d}f}",
                         "interval": f"{paired.lo:+.{d}f} to {paired.hi:+.{d}f}",
                         "wtl": f"{paired.wins} / {paired.ties} / {paired.losses}", "p": _p_text(paired.p_value),
                         "mark": mark, "n": paired.n})
        blocks.append({"key": key, "header": header, "direction": "higher" if key in higher else "lower",
                       "rows": rows})
    return {"baseline": runs[0].shown, "blocks": blocks, "alpha": ALPHA, "confidence": CONFIDENCE}


def _group_intervals(runs: Sequence[ReportRun], group: dict, metric: str) -> tuple[list[dict], list[dict]]:
    """Per run, the mean of ``metric`` over each value of ``group`` and its bootstrap interval."""
    from ..stats import bootstrap_mean_ci

    means, intervals = [], []
    for run in runs:
        mean, ci = {}, {}
        for value in group["values"]:
            vals = [row.get(metric) for row in run.rows.values() if str(row.get(group["key"])) == str(value)]
            vals = [v for v in vals if v is not None]
            mean[value] = float(np.mean(vals)) if vals else None
            ci[value] = bootstrap_mean_ci(vals, confidence=CONFIDENCE, resamples=RESAMPLES) if vals else None
        means.append(mean)
        intervals.append(ci)
    return means, intervals


def _plots(runs: Sequence[ReportRun], names: Sequence[str], ids: dict[str, str], metric: str,
           header: str, columns: Sequence[tuple[str, str, int]]) -> list[dict]:
    labels = [run.shown for run in runs]
    colours = [plots.run_colour(k) for k in range(len(runs))]
    # group means of SAD, as the tables (whatever the gallery is sorted by)
    bar_metric, bar_header = next(((k, h) for k, h, _ in columns if k == "sad"), (metric, header))
    figures = []
    for group in runs[0].meta.get("groups") or []:
        means, intervals = _group_intervals(runs, group, bar_metric)
        if any(v is not None for mean in means for v in mean.values()):
            figures.append({"title": f"Mean {bar_header} per {group['key']} (bars: {CONFIDENCE * 100:g} % interval)",
                            "svg": plots.group_bars(group, labels, means, intervals, bar_header, colours)})
    values = [[run.rows[n].get(metric) for n in names] for run in runs]
    figures.append({"title": f"Distribution of per-image {header}",
                    "svg": plots.distribution(labels, values, header, colours)})
    groups = runs[0].meta.get("groups") or []
    colour_by = next((g["key"] for g in groups if len(g["values"]) <= len(plots.GROUP_COLOURS)), None)
    higher = metric in runs[0].higher_is_better
    for k, run in enumerate(runs[1:], 1):
        figures.append({"title": f"{header} per image: {run.shown} vs {runs[0].shown}",
                        "svg": plots.scatter(runs[0].shown, run.shown, values[0], values[k], names,
                                             [f"#{ids[n]}" if n in ids else None for n in names],
                                             [str(runs[0].rows[n].get(colour_by, "")) for n in names]
                                             if colour_by else None, header, salt=f"scatter-{k}",
                                             higher_is_better=higher)})
    return figures


# --------------------------------------------------------------------------- the context

def _flags(runs: Sequence[ReportRun], name: str) -> list[str]:
    """What is not as scored about one image, for its gallery item."""
    flags = []
    for run in runs:
        scored = run.images[name]
        for role in scored.changed:
            if role == "alpha-differs":
                flags.append(f"{run.shown}: its ground truth differs from {runs[0].shown}'s (the one shown)")
            else:
                flags.append(f"{run.shown}: the {ROLE_NAMES[role]} changed since it was scored (shown as it is now)")
        for role in scored.missing:
            flags.append(f"{run.shown}: the {ROLE_NAMES[role]} it recorded is no longer there")
    return list(dict.fromkeys(flags))


def _run_warnings(run: ReportRun) -> list[str]:
    warnings = []
    for role, what in (("prediction", "prediction file(s) changed after this run was scored: their pictures "
                                      "show them as they are now, not what was scored"),
                       ("alpha", "ground-truth file(s) changed after this run was scored (content, whatever "
                                 "their dates): the error maps use them as they are now"),
                       ("trimap", "trimap file(s) changed after this run was scored"),
                       ("alpha-differs", "image(s) whose ground truth differs from the first run's")):
        count = sum(1 for s in run.images.values() if role in s.changed)
        if count:
            warnings.append(f"{count} {what}.")
    return warnings


def build_context(runs: Sequence[ReportRun], shown: Sequence[str], pictures: Sequence[dict], folder: Path,
                  page: Path, lut: np.ndarray, unknown_only: bool = False) -> dict:
    """Everything the template shows; ``shown``: the gallery's images in their default order,
    ``pictures``: :func:`~matbench.report.gallery.render_image` of each."""
    page_dir = page.parent
    columns = gallery_columns(runs)
    metric = sort_key(columns)
    header = next(h for k, h, _ in columns if k == metric)
    higher = runs[0].higher_is_better
    all_names = worst_first(runs[0], metric)
    ids = anchors(shown)
    groups = list(runs[0].meta.get("groups") or [])
    src = pathname2url(folder.name)
    colours = [plots.run_colour(k) for k in range(len(runs))]

    def picture(entry: dict | None, original: str | None) -> dict | None:
        if entry is None:
            return None
        return {"src": f"{src}/{pathname2url(entry['file'])}", "width": entry["width"], "height": entry["height"],
                "href": file_link(original, page_dir) if original else None}

    items, data_items = [], []
    for rank, (name, pics) in enumerate(zip(shown, pictures), 1):
        image = runs[0].images[name]
        first_value = runs[0].rows[name].get(metric)
        item_runs = []
        for k, (run, run_pics) in enumerate(zip(runs, pics["runs"])):
            row = run.rows[name]
            value = row.get(metric)
            item_runs.append({"shown": run.shown, "colour": colours[k],
                              "pred": picture(run_pics["pred"], str(run.prediction(name))),
                              "error": picture(run_pics["error"], None), "crop": picture(run_pics["crop"], None),
                              "pred_href": file_link(run.prediction(name), page_dir),
                              "error_max": run_pics["error_max"],
                              "delta": (f"{value - first_value:+.3f}" if k and value is not None
                                        and first_value is not None else ""),
                              "cells": [_number(row.get(key), d) for key, _, d in columns]})
        x, y, cw, ch = pics["window"]
        items.append({"id": ids[name], "name": name, "rank": rank, "lazy": rank > EAGER_ITEMS,
                      "groups": [(g["key"], str(runs[0].rows[name].get(g["key"], ""))) for g in groups],
                      "size": f"{pics['width']}×{pics['height']}", "flags": _flags(runs, name),
                      "photo": picture(pics["photo"], image.photo), "trimap": picture(pics["trimap"], image.trimap),
                      "alpha": picture(pics["alpha"], image.alpha), "runs": item_runs,
                      "window": {"x": x, "y": y, "w": cw, "h": ch, "label": f"{cw}×{ch} at ({x}, {y})"},
                      "views": {"photo": file_link(image.photo, page_dir) if image.photo else None,
                                "alpha": file_link(image.alpha, page_dir)},
                      "vmax": _number(pics["vmax"], 3), "vmid": _number(pics["vmax"] / 2, 3)})
        data_items.append({"id": ids[name], "g": {g["key"]: str(runs[0].rows[name].get(g["key"], "")) for g in groups},
                           "m": [[run.rows[name].get(k) for k, _, _ in columns] for run in runs]})
    dataset = runs[0].meta.get("dataset") or {}
    run_infos = []
    for k, run in enumerate(runs):
        run_infos.append({"n": k + 1, "shown": run.shown, "label": run.label, "test": run.meta.get("test", ""),
                          "variant": run.meta["variant"], "work_dir": str(run.work_dir.resolve()),
                          "date": run.meta.get("date", ""), "predictions": str(run.predictions),
                          "colour": colours[k], "predictions_href": file_link(run.predictions, page_dir),
                          "results_href": file_link(run.work_dir / "results.json", page_dir),
                          "warnings": _run_warnings(run)})
    title = dataset.get("title") or dataset.get("name") or "dataset"
    worst = {k: ("asc" if k in higher else "desc") for k, _, _ in columns}
    return {
        "title": f"matbench report: {', '.join(r.shown for r in runs)} on {title}",
        "version": __version__,
        "dataset": {"name": dataset.get("name", ""), "title": title, "num_images": len(all_names)},
        "runs": run_infos,
        "tables": _tables(runs),
        "pairwise": pairwise(runs, columns),
        "plots": _plots(runs, all_names, {n: ids[n] for n in shown}, metric, header, columns),
        "columns": [{"key": k, "header": h} for k, h, _ in columns],
        "metric_header": header,
        "table_headers": [h for _, h, _ in columns],
        "groups": [{"key": g["key"], "options": [(v, h) for v, h in g["values"].items()]
                    + [(v, v) for v in sorted({str(runs[0].rows[n].get(g["key"], "")) for n in shown})
                       if v not in g["values"]]} for g in groups],
        "items": items,
        "shown": len(shown),
        "unknown_only": unknown_only,
        "colour_bar": _colour_bar(lut),
        "crop_bar": _colour_bar(lut).replace("to top", "to right"),
        "ab": {"options": [("gt", "ground truth")] + [(str(k + 1), run.shown) for k, run in enumerate(runs)],
               "a": "1" if len(runs) > 1 else "gt", "b": "2" if len(runs) > 1 else "1"},
        "data": {"metrics": [k for k, _, _ in columns], "runs": [r.shown for r in runs],
                 "groups": [g["key"] for g in groups], "items": data_items, "worst": worst,
                 "default": {"sort": metric, "run": "1", "order": worst[metric]}},
    }


@functools.lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("matbench.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2")


def render_page(context: dict) -> str:
    """The HTML of the page."""
    return _template().render(**context)
