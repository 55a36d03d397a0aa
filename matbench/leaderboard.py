"""Paper-style leaderboard tables (the AIM README's layout) from matbench results files.

Two tables per metric variant, as the README splits its wide table: "whole image" (SAD, MSE,
MAD, Conn., Grad., Tran. SAD and SAD per image type) and "SAD per category". Runs of different
variants ("aim", "dim", ...) never share a table: the runs are grouped by ``meta.variant`` and
every group gets its own table set, in the order the variants first appear, with the variant in
every caption. The published AimNet rows (``paper=True``) are aim-variant numbers on AIM-500, so
they go into the "aim" tables only (an "aim" set is made for them if no aim run is given).

Cells show what the paper shows: SAD-like values with 2 decimals, MSE and MAD with 4. A group
with no image has an empty cell and is left out of "Avg." (the unweighted mean of the group
means); a note under the table says so. CSV keeps the full-precision numbers, one row per run.
"""
from __future__ import annotations

import csv
import html
import io
import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Sequence

from tabulate import tabulate

from .errors import InputError, MatbenchError
from .evaluation.summary import CATEGORIES, TYPES
from .io import atomic_write, read_json

FORMATS = ("md", "latex", "csv", "html")

#: The published AimNet results on AIM-500 (README of github:JizhiziLi/AIM; SPEC 1.6), as printed
#: there: aim-variant numbers, 2 decimals (MSE/MAD 4). "Avg." values are the published ones, not
#: recomputed: the third row's type Avg. (86.27) is not the mean of its SO/STM/NS (85.93).
PUBLISHED_AIM500 = {
    "source": "official AIM README (github:JizhiziLi/AIM), AIM-500",
    "variant": "aim",
    "dataset": {"type": "AIM500", "num_images": 500},
    "rows": [
        {"label": "AimNet (paper)", "test": "Hybrid (1/3&1/4)",
         "metrics": {"sad": 43.92, "mse": 0.0161, "mad": 0.0262, "conn": 43.18, "grad": 33.05,
                     "sad_trimap": 30.74},
         "type": {"SO": 31.80, "STM": 94.02, "NS": 134.31, "avg": 86.71},
         "category": {"animal": 26.39, "portrait": 24.68, "transparent": 148.68, "plant": 54.03,
                      "furniture": 62.70, "toy": 53.15, "fruit": 37.17, "avg": 58.11}},
        {"label": "AimNet (update)", "test": "Hybrid (1/3&1/4)",
         "metrics": {"sad": 41.72, "mse": 0.0153, "mad": 0.0248, "conn": 41.23, "grad": 33.97,
                     "sad_trimap": 28.47},
         "type": {"SO": 30.57, "STM": 86.94, "NS": 125.97, "avg": 81.16},
         "category": {"animal": 24.97, "portrait": 24.11, "transparent": 131.20, "plant": 52.11,
                      "furniture": 65.09, "toy": 50.11, "fruit": 35.26, "avg": 54.69}},
        {"label": "AimNet (update)", "test": "Hybrid (1/2&1/4)",
         "metrics": {"sad": 44.25, "mse": 0.0165, "mad": 0.0263, "conn": 43.78, "grad": 34.66,
                     "sad_trimap": 28.89},
         "type": {"SO": 32.48, "STM": 91.86, "NS": 133.46, "avg": 86.27},
         "category": {"animal": 26.05, "portrait": 25.09, "transparent": 137.31, "plant": 57.75,
                      "furniture": 68.88, "toy": 53.81, "fruit": 36.87, "avg": 57.97}},
    ],
}

#: Whole-image columns per variant: (metric key, header, decimals).
WHOLE_COLUMNS = {
    "aim": [("sad", "SAD", 2), ("mse", "MSE", 4), ("mad", "MAD", 4), ("conn", "Conn.", 2),
            ("grad", "Grad.", 2), ("sad_trimap", "Tran. SAD", 2)],
    "dim": [("sad", "SAD", 2), ("mse", "MSE", 4), ("grad", "Grad.", 2), ("conn", "Conn.", 2)],
}
_KNOWN_HEADERS = {key: (head, dec) for cols in WHOLE_COLUMNS.values() for key, head, dec in cols}
_KNOWN_HEADERS.update({"mse_trimap": ("Tran. MSE", 4), "mad_trimap": ("Tran. MAD", 4),
                       "sad_fg": ("FG SAD", 2), "sad_bg": ("BG SAD", 2)})
_METRIC_ORDER = ("sad", "mse", "mad", "sad_trimap", "mse_trimap", "mad_trimap", "sad_fg", "sad_bg",
                 "conn", "grad")

VARIANT_NAMES = {"aim": "official AIM code", "dim": "Composition-1k, as mmagic computes it"}
TYPE_HEADERS = {"SO": "SO", "STM": "STM", "NS": "NS"}
CATEGORY_HEADERS = {"animal": "Animal", "portrait": "Human", "transparent": "Transp.", "plant": "Plant",
                    "furniture": "Furni.", "toy": "Toy", "fruit": "Fruit"}


# --------------------------------------------------------------------------- loading

def load_results(paths: Iterable[str | os.PathLike]) -> list[dict]:
    """Read results.json files (a directory stands for its results.json); one-line errors."""
    results = []
    for path in paths:
        path = Path(path)
        if path.is_dir() and (path / "results.json").is_file():
            path = path / "results.json"
        if not path.exists():
            raise InputError(path, "file not found")
        if not path.is_file():
            raise InputError(path, "not a file (expected a results.json)")
        data = read_json(path)
        check_results(data, path)
        results.append(data)
    if not results:
        raise MatbenchError("no results files given")
    return results


def check_results(data: object, source: str | os.PathLike) -> None:
    """Raise :class:`InputError` naming ``source`` unless ``data`` looks like a matbench results dict."""
    def need(obj: object, key: str, kind: type, where: str) -> object:
        if not isinstance(obj, dict) or key not in obj:
            raise InputError(source, f"not a matbench results file: '{where}{key}' is missing")
        if not isinstance(obj[key], kind):
            raise InputError(source, f"not a matbench results file: '{where}{key}' is not a {_KIND[kind]}")
        return obj[key]

    if not isinstance(data, dict):
        raise InputError(source, "not a matbench results file: the top level is not a JSON object")
    meta = need(data, "meta", dict, "")
    need(meta, "variant", str, "meta.")
    need(data, "per_image", list, "")
    summary = need(data, "summary", dict, "")
    need(summary, "metrics", dict, "summary.")
    for part in ("type", "category"):
        group = need(summary, part, dict, "summary.")
        need(group, "sad", dict, f"summary.{part}.")
    _check_values(data, source)


_KIND = {dict: "JSON object", list: "JSON list", str: "string"}


def _check_values(data: dict, source: str | os.PathLike) -> None:
    """Every number the tables read is a number (or null: a metric undefined on every image);
    a hand-edited string there is an error naming its JSON path, not a crash while formatting."""
    def fail(where: str, expected: str, value: object) -> None:
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise InputError(source, f"{where}: expected {expected}, got {shown}")

    def numbers(node: dict, where: str, keys: Iterable[str] | None = None, nullable: bool = True) -> None:
        for key in node if keys is None else [k for k in keys if k in node]:
            value = node[key]
            if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                    or (nullable and value is None)):
                fail(f"{where}{key}", "a number", value)

    meta, summary = data["meta"], data["summary"]
    if isinstance(meta.get("dataset"), dict):
        numbers(meta["dataset"], "meta.dataset.", ["num_images"], nullable=False)
    numbers(summary, "summary.", ["count"], nullable=False)
    numbers(summary["metrics"], "summary.metrics.")
    for part in ("type", "category"):
        numbers(summary[part]["sad"], f"summary.{part}.sad.")
        numbers(summary[part], f"summary.{part}.", ["avg"])
    if summary.get("no_unknown_region") is not None and not isinstance(summary["no_unknown_region"], list):
        fail("summary.no_unknown_region", "a JSON list", summary["no_unknown_region"])
    row_keys = ["unknown_pixels", *summary["metrics"]]
    for i, row in enumerate(data["per_image"]):
        if not isinstance(row, dict):
            fail(f"per_image[{i}]", "a JSON object", row)
        numbers(row, f"per_image[{i}].", row_keys)


# --------------------------------------------------------------------------- table model

@dataclass
class _Run:
    label: str
    test: str
    published: bool
    metrics: dict
    types: dict                      # group -> mean SAD or None, plus "avg"
    categories: dict
    dataset: tuple                   # (type, num_images)
    extra_groups: list = field(default_factory=list)   # groups outside the paper's columns
    no_unknown: int = 0


@dataclass
class _Table:
    caption: str
    headers: list
    decimals: list                   # per column: None for text, else decimals
    rows: list                       # raw values: str for text, float|None for numbers
    notes: list


def _test_name(meta: dict) -> str:
    """The "Test" cell: meta.test if given, else the strategy with its ratios, README style."""
    if isinstance(meta.get("test"), str):
        return meta["test"]
    source = meta.get("source") if isinstance(meta.get("source"), dict) else {}
    strategy = source.get("strategy")
    if isinstance(strategy, dict) and strategy.get("type"):
        name = str(strategy["type"])
        name = name[:1].upper() + name[1:]
        ratio_keys = sorted((k for k, v in strategy.items() if "ratio" in k and isinstance(v, (int, float))),
                            key=lambda k: (not k.startswith("local"), not k.startswith("global"), k))
        ratios = [str(Fraction(strategy[k]).limit_denominator(64)) for k in ratio_keys]
        return f"{name} ({'&'.join(ratios)})" if ratios else name
    return {"TrimapPredictor": "trimap", "PredictionFolder": "predictions"}.get(source.get("type"), "")


def _groups(part: dict, names: Sequence[str]) -> tuple[dict, list]:
    sad = part.get("sad") or {}
    values = {g: sad.get(g) for g in names}
    values["avg"] = part.get("avg")
    return values, [g for g in sad if g not in names]


def _run_from_results(res: dict, index: int) -> _Run:
    meta, summary = res["meta"], res["summary"]
    dataset = meta.get("dataset") if isinstance(meta.get("dataset"), dict) else {}
    types, extra_t = _groups(summary["type"], TYPES)
    cats, extra_c = _groups(summary["category"], CATEGORIES)
    return _Run(label=str(meta.get("label") or f"run {index + 1}"), test=_test_name(meta), published=False,
                metrics=summary["metrics"], types=types, categories=cats,
                dataset=(dataset.get("type", "?"), dataset.get("num_images", summary.get("count", "?"))),
                extra_groups=extra_t + extra_c, no_unknown=len(summary.get("no_unknown_region") or []))


def _published_runs() -> list[_Run]:
    ds = PUBLISHED_AIM500["dataset"]
    return [_Run(label=r["label"], test=r["test"], published=True, metrics=r["metrics"], types=r["type"],
                 categories=r["category"], dataset=(ds["type"], ds["num_images"]))
            for r in PUBLISHED_AIM500["rows"]]


def _metric_columns(variant: str, runs: Sequence[_Run]) -> list[tuple]:
    if variant in WHOLE_COLUMNS:
        return WHOLE_COLUMNS[variant]
    keys: list[str] = []
    for run in runs:
        keys += [k for k in run.metrics if k not in keys]
    first_seen = {k: i for i, k in enumerate(keys)}
    keys = sorted(keys, key=lambda k: (_METRIC_ORDER.index(k) if k in _METRIC_ORDER else len(_METRIC_ORDER),
                                       first_seen[k]))
    return [(k, *_KNOWN_HEADERS.get(k, (k, 4 if k.startswith(("mse", "mad")) else 2))) for k in keys]


def _variant_title(variant: str) -> str:
    return f"variant {variant} ({VARIANT_NAMES[variant]})" if variant in VARIANT_NAMES else f"variant {variant}"


def _name(run: _Run) -> str:
    return f"{run.label} [{run.test}]" if run.test else run.label


def _fmt2(v: float) -> str:
    return f"{v:.2f}"


def _missing_notes(runs: Sequence[_Run], part: str, names: Sequence[str], headers: dict) -> list[str]:
    notes = []
    for run in runs:
        values = run.types if part == "type" else run.categories
        missing = [g for g in names if values.get(g) is None]
        if missing and len(missing) < len(names):
            present = [headers[g] for g in names if g not in missing]
            notes.append(f"{_name(run)}: no image of {part} {', '.join(headers[g] for g in missing)}; "
                         f"{'that cell is' if len(missing) == 1 else 'those cells are'} empty and Avg. is the "
                         f"mean of {', '.join(present)} only.")
        elif missing:
            notes.append(f"{_name(run)}: no image has a known {part}; the {part} columns are empty.")
    return notes


def _published_avg_notes(runs: Sequence[_Run], part: str, names: Sequence[str]) -> list[str]:
    notes = []
    for run in runs:
        values = run.types if part == "type" else run.categories
        if not run.published or values.get("avg") is None:
            continue
        mean = sum(values[g] for g in names) / len(names)
        if _fmt2(mean) != _fmt2(values["avg"]):
            notes.append(f"{_name(run)}: the published {part} Avg. {_fmt2(values['avg'])} is not the "
                         f"mean of its published {part} values ({_fmt2(mean)}); shown as published.")
    return notes


def _common_notes(variant: str, runs: Sequence[_Run]) -> list[str]:
    notes = []
    published = [r for r in runs if r.published]
    if published:
        labels = " and ".join(dict.fromkeys(r.label for r in published))
        notes.append(f"{labels}: published numbers from the {PUBLISHED_AIM500['source']}, "
                     "not measured by matbench.")
    datasets: dict[tuple, list[str]] = {}
    for r in runs:
        datasets.setdefault(r.dataset, [])
        if _name(r) not in datasets[r.dataset]:
            datasets[r.dataset].append(_name(r))
    if len(datasets) > 1:
        parts = "; ".join(f"{ds[0]} ({ds[1]} images): {', '.join(names)}" for ds, names in datasets.items())
        notes.append(f"The rows come from different datasets and are not directly comparable: {parts}.")
    if variant == "dim":
        notes.append("dim variant: the prediction is set to the trimap on known pixels; MSE is the sum of squared "
                     "errors divided by the number of unknown pixels, not a per-pixel mean over the image; "
                     "Grad. and Conn. are summed over the unknown region.")
    return notes


def _tables(variant: str, runs: Sequence[_Run], start: int, combined: bool) -> list[_Table]:
    metric_cols = _metric_columns(variant, runs)
    title = _variant_title(variant)
    common = _common_notes(variant, runs)
    head = ["Model / run", "Test"]
    type_cols = [(g, TYPE_HEADERS[g]) for g in TYPES]
    cat_cols = [(g, CATEGORY_HEADERS[g]) for g in CATEGORIES]

    def metric_values(run: _Run) -> list:
        return [run.metrics.get(k) for k, _, _ in metric_cols]

    def group_values(values: dict, cols: Sequence[tuple]) -> list:
        return [values.get(g) for g, _ in cols] + [values.get("avg")]

    type_notes = _missing_notes(runs, "type", TYPES, TYPE_HEADERS) + _published_avg_notes(runs, "type", TYPES)
    cat_notes = (_missing_notes(runs, "category", CATEGORIES, CATEGORY_HEADERS)
                 + _published_avg_notes(runs, "category", CATEGORIES))
    other = [f"{_name(r)}: images of group(s) {', '.join(r.extra_groups)} are in no column and not in Avg."
             for r in runs if r.extra_groups]
    no_unknown = [f"{_name(r)}: {r.no_unknown} image(s) without unknown region (no trimap 128 pixel); metrics "
                  "undefined there are left out of their means." for r in runs if r.no_unknown]
    about_type = "SO, STM, NS: mean SAD per image type; Avg.: the unweighted mean of the type means."
    about_cat = "Mean SAD per category (Human = portrait); Avg.: the unweighted mean of the category means."

    if combined:
        headers = (head + [h for _, h, _ in metric_cols] + [h for _, h in type_cols] + ["Type Avg."]
                   + [h for _, h in cat_cols] + ["Cat. Avg."])
        decimals = [None, None] + [d for _, _, d in metric_cols] + [2] * (len(type_cols) + len(cat_cols) + 2)
        rows = [[r.label, r.test] + metric_values(r) + group_values(r.types, type_cols)
                + group_values(r.categories, cat_cols) for r in runs]
        notes = [about_type.replace("Avg.", "Type Avg."), about_cat.replace("Avg.", "Cat. Avg.")]
        return [_Table(f"Table {start}. Whole image and SAD per category - {title}", headers, decimals, rows,
                       notes + type_notes + cat_notes + other + no_unknown + common)]

    whole_caption = "Whole image" if variant != "dim" else "Whole image (dim convention)"
    whole = _Table(
        caption=f"Table {start}. {whole_caption} - {title}",
        headers=head + [h for _, h, _ in metric_cols] + [h for _, h in type_cols] + ["Avg."],
        decimals=[None, None] + [d for _, _, d in metric_cols] + [2] * (len(type_cols) + 1),
        rows=[[r.label, r.test] + metric_values(r) + group_values(r.types, type_cols) for r in runs],
        notes=[about_type] + type_notes + no_unknown + common)
    category = _Table(
        caption=f"Table {start + 1}. SAD per category - {title}",
        headers=head + [h for _, h in cat_cols] + ["Avg."],
        decimals=[None, None] + [2] * (len(cat_cols) + 1),
        rows=[[r.label, r.test] + group_values(r.categories, cat_cols) for r in runs],
        notes=[about_cat] + cat_notes + other + common)
    return [whole, category]


def _source_name(res: object, index: int) -> str:
    meta = res.get("meta") if isinstance(res, dict) else None
    label = meta.get("label") if isinstance(meta, dict) else None
    return f"results[{index}] ({label})" if label else f"results[{index}]"


def _by_variant(results: Sequence[dict], paper: bool) -> dict[str, list[_Run]]:
    groups: dict[str, list[_Run]] = {}
    if not results and not paper:
        raise MatbenchError("no results to tabulate")
    for i, res in enumerate(results):
        check_results(res, _source_name(res, i))
        groups.setdefault(res["meta"]["variant"], []).append(_run_from_results(res, i))
    if paper:
        # Published rows first, as the reference the runs are read against.
        groups["aim"] = _published_runs() + groups.get("aim", [])
    return groups


def build_tables(results: Sequence[dict], paper: bool = False, combined: bool = False) -> list[_Table]:
    """The tables to render: one set per variant, never mixing variants."""
    tables: list[_Table] = []
    for variant, runs in _by_variant(results, paper).items():
        tables += _tables(variant, runs, len(tables) + 1, combined)
    return tables


# --------------------------------------------------------------------------- formats

def _cell(value: object, decimals: int | None) -> str:
    if decimals is None:
        return "" if value is None else str(value)
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{decimals}f}"


def _cells(table: _Table) -> list[list[str]]:
    return [[_cell(v, d) for v, d in zip(row, table.decimals)] for row in table.rows]


def _align(table: _Table) -> tuple:
    return tuple("left" if d is None else "right" for d in table.decimals)


def _tab(table: _Table, tablefmt: str) -> str:
    cells = _cells(table)
    if tablefmt == "github":  # a "|" in a run's name would split its cell
        cells = [[c.replace("|", "\\|") for c in row] for row in cells]
    return tabulate(cells, table.headers, tablefmt=tablefmt, disable_numparse=True, colalign=_align(table))


def _markdown(tables: Sequence[_Table]) -> str:
    parts = []
    for t in tables:
        notes = "\n".join(f"- {n}" for n in t.notes)
        parts.append(f"**{t.caption}**\n\n{_tab(t, 'github')}\n\n{notes}".rstrip())
    return "\n\n".join(parts) + "\n"


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    """Text safe for LaTeX (captions and notes; tabulate escapes the cells itself)."""
    return "".join(_LATEX_ESCAPES.get(c, c) for c in text)


def _latex(tables: Sequence[_Table]) -> str:
    parts = []
    for t in tables:
        notes = "".join(f"\\par\\footnotesize {latex_escape(n)}\n" for n in t.notes)
        parts.append("\\begin{table}[t]\n\\centering\n"
                     f"\\caption{{{latex_escape(t.caption)}}}\n"
                     f"{_tab(t, 'latex_booktabs')}\n{notes}\\end{{table}}")
    return "% matbench leaderboard; needs \\usepackage{booktabs}\n" + "\n\n".join(parts) + "\n"


_HTML_STYLE = ("body{font-family:sans-serif}table{border-collapse:collapse;margin:1.5em 0 .3em}"
               "th,td{padding:2px 8px;border-bottom:1px solid #ccc}caption{font-weight:bold;text-align:left}"
               "p.note{font-size:small;margin:.1em 0}")


def _html(tables: Sequence[_Table]) -> str:
    parts = []
    for t in tables:
        body = _tab(t, "html").replace("<table>", f"<table>\n<caption>{html.escape(t.caption)}</caption>", 1)
        notes = "".join(f'\n<p class="note">{html.escape(n)}</p>' for n in t.notes)
        parts.append(body + notes)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>matbench leaderboard</title>\n<style>{_HTML_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")


def _csv(results: Sequence[dict], paper: bool) -> str:
    """One row per run and variant, every number at full precision."""
    groups = _by_variant(results, paper)
    keys: list[str] = []
    for variant, runs in groups.items():
        keys += [k for k, _, _ in _metric_columns(variant, runs) if k not in keys]
        for run in runs:
            keys += [k for k in run.metrics if k not in keys]
    header = (["variant", "run", "test", "reference", "dataset", "num_images"] + keys
              + [f"sad_{g}" for g in TYPES] + ["sad_type_avg"]
              + [f"sad_{g}" for g in CATEGORIES] + ["sad_category_avg"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)

    def num(v: object) -> str:
        return "" if v is None else repr(v) if isinstance(v, float) else str(v)

    for variant, runs in groups.items():
        for r in runs:
            writer.writerow([variant, r.label, r.test, "published" if r.published else "measured",
                             r.dataset[0], r.dataset[1]]
                            + [num(r.metrics.get(k)) for k in keys]
                            + [num(r.types.get(g)) for g in (*TYPES, "avg")]
                            + [num(r.categories.get(g)) for g in (*CATEGORIES, "avg")])
    return out.getvalue()


def render(results: Sequence[dict], fmt: str = "md", paper: bool = False, combined: bool = False) -> str:
    """The leaderboard as text: ``fmt`` is md, latex, csv or html; ``paper`` adds the published rows.

    ``combined`` puts both tables of a variant side by side in one wide table, as the README does.
    """
    if fmt not in FORMATS:
        raise MatbenchError(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")
    if fmt == "csv":
        return _csv(results, paper)
    tables = build_tables(results, paper=paper, combined=combined)
    return {"md": _markdown, "latex": _latex, "html": _html}[fmt](tables)


def write(text: str, path: str | os.PathLike) -> None:
    """Write ``text`` to ``path`` atomically; a failure is an InputError naming the file."""
    try:
        atomic_write(path, lambda fh: fh.write(text), text=True)
    except OSError as exc:
        raise InputError(path, f"cannot write: {exc.strerror or exc}") from None
