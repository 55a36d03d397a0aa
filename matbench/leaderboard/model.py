"""The table model: the runs of each (dataset, metric variant) set laid out as the AIM README lays
out its tables — one whole-image table (metrics, plus the columns of the groups the dataset puts
there) and one table per other group — or as one pivot table of a chosen metric across datasets.

Cells show what papers show: SAD-like values with 2 decimals, MSE and MAD with 4 (each metric
variant declares its columns). A group value with no image has an empty cell and is left out of
"Avg." (the unweighted mean of the group means); a note under the table says so. Each numeric
column knows what it shows (:class:`Column`), so intervals, paired tests and best values can be
added from the runs' per-image rows (:mod:`.compare`) and drawn by every writer.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Sequence

from ..errors import MatbenchError
from .runs import Run, table_sets
from .variants import description, header_of, higher_is_better, metric_columns, variant_title

__all__ = ["Column", "Run", "Table", "build_tables", "flat_table", "metric_columns", "pivot_table",
           "resolve_columns", "resolve_metric", "table_sets", "tables_of_sets"]


@dataclass(frozen=True)
class Column:
    """What a numeric column shows: the mean of ``key`` over the images (of one ``group`` value,
    or the group's "Avg." of value means when ``avg``), times ``scale``."""

    key: str
    group: str | None = None
    value: str | None = None
    avg: bool = False
    higher: bool = False             # higher is better (else lower: SAD, MSE, ...)
    scale: float = 1.0


@dataclass
class Table:
    caption: str                     # "Table N. what - [dataset - ]variant" (Markdown, HTML)
    headers: list
    decimals: list                   # per column: None for text (or full precision), else decimals
    rows: list                       # raw values: str for text, float|None for numbers
    notes: list
    title: str = ""                  # the caption without a number, naming dataset and variant (LaTeX)
    label: str = ""                  # LaTeX \label key, unique in one output
    columns: list = field(default_factory=list)      # per column: Column, or None for text
    cell_runs: list = field(default_factory=list)    # per row, per column: the Run a value is of
    cis: list = field(default_factory=list)          # per row, per column: (lo, hi) or None
    marks: list = field(default_factory=list)        # per row, per column: (mark, Paired | None) or None
    confidence: float = 0.95


# --------------------------------------------------------------------------- options

@dataclass(frozen=True)
class Layout:
    """How tables are laid out: chosen columns (metric or group keys) and MSE/MAD x 10^3."""

    columns: tuple[str, ...] | None = None
    scale_mse: bool = False


def _scaled(key: str) -> bool:
    return key.startswith(("mse", "mad"))


def _available(sets: dict[tuple, list[Run]]) -> dict[str, str]:
    """Lower-case name -> key of everything ``--columns`` can name (metric and group keys)."""
    names: dict[str, str] = {}
    for (_, variant), runs in sets.items():
        for key in [k for k, _, _ in metric_columns(variant, runs)] + [k for r in runs for k in r.metrics]:
            names.setdefault(key.lower(), key)
        for g in _group_defs(runs):
            names.setdefault(g["key"].lower(), g["key"])
    return names


def _unknown(option: str, name: str, known: Sequence[str]) -> MatbenchError:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return MatbenchError(f"{option}: unknown column '{name}'{hint} (known: {', '.join(sorted(known))})")


def resolve_columns(spec: str | Sequence[str] | None, sets: dict[tuple, list[Run]]) -> tuple[str, ...] | None:
    """``--columns sad,MSE,type`` as keys (any case); an unknown name is an error with a
    did-you-mean."""
    if spec is None:
        return None
    items = spec.split(",") if isinstance(spec, str) else [p for s in spec for p in str(s).split(",")]
    names = [i.strip() for i in items if i.strip()]
    if not names:
        raise MatbenchError("--columns: give metric keys separated by commas, e.g. --columns sad,mse,grad")
    known = _available(sets)
    out = []
    for name in names:
        if name.lower() not in known:
            raise _unknown("--columns", name, list(dict.fromkeys(known.values())))
        if known[name.lower()] not in out:
            out.append(known[name.lower()])
    return tuple(out)


def resolve_metric(metric: str, sets: dict[tuple, list[Run]]) -> str:
    """``--pivot SAD``: the metric key, in any case; unknown: an error with a did-you-mean."""
    keys = list(dict.fromkeys(k for runs in sets.values() for run in runs for k in run.metrics))
    for key in keys:
        if key.lower() == metric.strip().lower():
            return key
    close = difflib.get_close_matches(metric.lower(), keys, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise MatbenchError(f"--pivot {metric}: no run has this metric{hint} (known: {', '.join(sorted(keys))})")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


# --------------------------------------------------------------------------- notes

def _fmt2(v: float) -> str:
    return f"{v:.2f}"


def _merged(items: Sequence[tuple[str, str]]) -> list[str]:
    """``(row name, text)`` pairs as one note per text: "A, B: text" (the same fact once)."""
    by_text: dict[str, list[str]] = {}
    for name, text in items:
        names = by_text.setdefault(text, [])
        if name not in names:
            names.append(name)
    return [f"{', '.join(names)}: {text}" for text, names in by_text.items()]


def _missing_notes(runs: Sequence[Run], group: dict) -> list[str]:
    items, key, headers = [], group["key"], group["values"]
    for run in runs:
        values = run.groups.get(key, {})
        missing = [v for v in headers if values.get(v) is None]
        if missing and len(missing) < len(headers):
            present = [headers[v] for v in headers if v not in missing]
            items.append((run.name, f"no image of {key} {', '.join(headers[v] for v in missing)}; "
                                    f"{'that cell is' if len(missing) == 1 else 'those cells are'} empty and Avg. "
                                    f"is the mean of {', '.join(present)} only."))
        elif missing and headers:
            items.append((run.name, f"no image has a known {key}; the {key} columns are empty."))
    return _merged(items)


def _published_avg_notes(runs: Sequence[Run], group: dict) -> list[str]:
    notes, key, names = [], group["key"], list(group["values"])
    for run in runs:
        values = run.groups.get(key, {})
        if run.reference is None or values.get("avg") is None or any(values.get(v) is None for v in names):
            continue
        mean = sum(values[v] for v in names) / len(names)
        if _fmt2(mean) != _fmt2(values["avg"]):
            notes.append(f"{run.name}: the published {key} Avg. {_fmt2(values['avg'])} is not the "
                         f"mean of its published {key} values ({_fmt2(mean)}); shown as published.")
    return notes


def _listing(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _size_notes(runs: Sequence[Run]) -> list[str]:
    sizes: dict[object, list[str]] = {}
    for run in runs:
        sizes.setdefault(run.dataset["num_images"], [])
        if run.name not in sizes[run.dataset["num_images"]]:
            sizes[run.dataset["num_images"]].append(run.name)
    if len(sizes) > 1:
        parts = "; ".join(f"{n} images: {', '.join(names)}" for n, names in sizes.items())
        return [f"The rows are not scored on the same images and are not directly comparable: {parts}."]
    measured = [r for r in runs if r.measured]
    if measured and any(set(r.rows) != set(measured[0].rows) for r in measured):
        common = set.intersection(*(set(r.rows) for r in measured))
        return [f"The runs are scored on as many images but not the same ones ({len(common)} in common): "
                "they are not directly comparable."]
    return []


def _identity_notes(runs: Sequence[Run]) -> list[str]:
    """Runs of one column whose metric code or description differs."""
    notes = []
    measured = [r for r in runs if r.measured]
    by_metric: dict[str, list[Run]] = {}
    for run in measured:
        identity = run.meta.get("identity") if isinstance(run.meta.get("identity"), dict) else {}
        if identity.get("metric"):
            by_metric.setdefault(str(identity["metric"]), []).append(run)
    for metric, group in by_metric.items():
        codes: dict[str, list[str]] = {}
        for run in group:
            identity = run.meta["identity"]
            code = identity.get("metric_code") or identity.get("code")
            if code:
                codes.setdefault(str(code), []).append(run.name)
        if len(codes) > 1:
            parts = "; ".join(f"{code[:12]}: {', '.join(names)}" for code, names in codes.items())
            notes.append(f"Computed by different code of the same metric class {metric} (meta.identity: {parts}): "
                         "matbench, the metric's or the model's package files changed between these runs; "
                         "if the metric's code changed, their values may not be comparable.")
    descs: dict[str, list[str]] = {}
    for run in measured:
        if run.metric_desc:
            descs.setdefault(json.dumps(run.metric_desc, sort_keys=True), []).append(run.name)
    if len(descs) > 1:
        notes.append("The metric variant is described differently by "
                     + "; ".join(", ".join(names) for names in descs.values())
                     + " (meta.metric differs: another version of its plugin); their values may not be comparable.")
    return notes


def _row_notes(runs: Sequence[Run]) -> list[str]:
    notes = []
    for run in runs:
        if run.paired_with:
            source, row = run.paired_with
            notes.append(f"{run.name}: the run '{run.own_label}' ({run.origin}) of the model behind the published "
                         f"row '{row}' of {source} (meta.published_as), shown under that row.")
    apart: dict[str, list[str]] = {}
    for run in runs:
        if run.told_apart_by:
            apart.setdefault(run.told_apart_by, []).append(run.name)
    for basis, names in apart.items():
        notes.append(f"Runs that share a label are told apart by their {basis}: {', '.join(names)}.")
    for run in runs:
        if run.stored_mismatch:
            shown = "; ".join(run.stored_mismatch[:3]) + ("; ..." if len(run.stored_mismatch) > 3 else "")
            notes.append(f"{run.name}: the summary stored in {run.origin} disagrees with its per-image rows "
                         f"({shown}); every number shown is computed from the rows.")
    only = [r.name for r in runs if r.rows is None and r.reference is None]
    if only:
        notes.append(f"{', '.join(only)}: no per-image rows; the summary stored in the file is shown as it is "
                     "(--trust-summary), not recomputed.")
    return notes


def _common_notes(variant: str, runs: Sequence[Run]) -> list[str]:
    notes = []
    by_source: dict[str, list[str]] = {}
    for run in runs:
        if run.reference is not None:
            by_source.setdefault(run.reference, [])
            if run.label not in by_source[run.reference]:
                by_source[run.reference].append(run.label)
    for source, labels in by_source.items():
        notes.append(f"{' and '.join(labels)}: published numbers from the {source}, not measured by matbench.")
    notes += _size_notes(runs)
    desc = description(variant, runs)
    generated = [run for run in runs if run.trimaps.get("source") == "generated"]
    if generated and desc.get("uses_trimap", True):
        rule = generated[0].trimaps.get("rule")
        notes.append(f"{', '.join(r.name for r in generated)}: scored with trimaps generated by matbench from the "
                     f"true alpha (rule {rule}), not official ones.")
    notes += _row_notes(runs) + _identity_notes(runs)
    if desc.get("note"):
        notes.append(str(desc["note"]))
    return notes


# --------------------------------------------------------------------------- tables

def _group_defs(runs: Sequence[Run]) -> list[dict]:
    defs: dict[str, dict] = {}
    for run in runs:
        for g in run.group_defs:
            defs.setdefault(g["key"], g)
    return list(defs.values())


def _group_values(run: Run, group: dict) -> list:
    values = run.groups.get(group["key"], {})
    return [values.get(v) for v in group["values"]] + [values.get("avg")]


def _group_columns(group: dict) -> list[Column]:
    return [Column("sad", group["key"], v) for v in group["values"]] + [Column("sad", group["key"], avg=True)]


def _metric_specs(variant: str, runs: Sequence[Run], layout: Layout) -> list[tuple[Column, str, int]]:
    """(column, header, decimals) of the chosen metric columns."""
    cols = metric_columns(variant, runs)
    if layout.columns is not None:
        present = {k: (k, h, d) for k, h, d in cols}
        for run in runs:
            for k in run.metrics:
                present.setdefault(k, (k, *header_of(k, variant, runs)))
        cols = [present[k] for k in layout.columns if k in present]
    higher = higher_is_better(variant, runs)
    out = []
    for key, head, dec in cols:
        if layout.scale_mse and _scaled(key):
            out.append((Column(key, higher=key in higher, scale=1000.0), f"{head} (×10⁻³)", max(1, dec - 2)))
        else:
            out.append((Column(key, higher=key in higher), head, dec))
    return out


def _value(run: Run, column: Column) -> object:
    value = run.metrics.get(column.key)
    return value * column.scale if isinstance(value, (int, float)) and column.scale != 1.0 else value


def tables_of_set(variant: str, runs: Sequence[Run], start: int, combined: bool, dataset_title: str,
                  layout: Layout = Layout(), dataset_name: str = "", full_title: str = "") -> list[Table]:
    """The tables of one (dataset, variant) set, numbered from ``start``."""
    metric_cols = _metric_specs(variant, runs, layout)
    title = variant_title(variant, runs) if not dataset_title else f"{dataset_title} - {variant_title(variant, runs)}"
    paper_title = f"{full_title or dataset_title or dataset_name}, {variant_title(variant, runs)}".lstrip(", ")
    label = f"tab:{_slug(dataset_name or dataset_title or 'runs')}-{_slug(variant)}"
    defs = _group_defs(runs)
    if layout.columns is not None:
        defs = [g for k in layout.columns for g in defs if g["key"] == k]
    whole_groups = [g for g in defs if g["placement"] == "whole"]
    own_tables = [g for g in defs if g["placement"] == "table"]
    common = _common_notes(variant, runs)
    head = ["Model / run", "Test"]
    group_notes = {g["key"]: _missing_notes(runs, g) + _published_avg_notes(runs, g) for g in defs}
    other = _merged([(r.name, f"images of group(s) {', '.join(r.extra_groups)} are in no column and not in Avg.")
                     for r in runs if r.extra_groups])
    no_unknown = _merged([(r.name, f"{r.no_unknown} image(s) without unknown region (no trimap 128 pixel); "
                                   "metrics undefined there are left out of their means.")
                          for r in runs if r.no_unknown])

    def metric_values(run: Run) -> list:
        return [_value(run, c) for c, _, _ in metric_cols]

    def make(caption: str, what: str, suffix: str, headers: list, decimals: list, columns: list, rows: list,
             notes: list) -> Table:
        return Table(caption=caption, headers=headers, decimals=decimals, rows=rows, notes=notes,
                     title=f"{what}, {paper_title}", label=label + (f"-{_slug(suffix)}" if suffix else ""),
                     columns=columns, cell_runs=[[None, None] + [r] * (len(headers) - 2) for r in runs])

    metric_heads = [h for _, h, _ in metric_cols]
    metric_specs = [c for c, _, _ in metric_cols]
    metric_decimals = [d for _, _, d in metric_cols]
    if combined:
        headers = head + metric_heads
        for g in defs:
            headers += list(g["values"].values()) + [g["avg_header"]]
        n_group = len(headers) - 2 - len(metric_cols)
        rows = [[r.label, r.test] + metric_values(r) + [v for g in defs for v in _group_values(r, g)] for r in runs]
        notes = [g["about"].replace("Avg.", g["avg_header"]) for g in defs]
        notes += [n for g in defs for n in group_notes[g["key"]]]
        caption = " and ".join(["Whole image"] + [g["title"] for g in own_tables])
        return [make(f"Table {start}. {caption} - {title}", caption, "", headers,
                     [None, None] + metric_decimals + [2] * n_group,
                     [None, None] + metric_specs + [c for g in defs for c in _group_columns(g)],
                     rows, notes + other + no_unknown + common)]

    tables: list[Table] = []
    if metric_cols or whole_groups or layout.columns is None:
        whole_caption = "Whole image" + (f" ({variant} convention)" if variant == "dim" else "")
        headers = head + metric_heads
        for g in whole_groups:
            headers += list(g["values"].values()) + ["Avg." if len(whole_groups) == 1 else g["avg_header"]]
        n_group = len(headers) - 2 - len(metric_cols)
        tables.append(make(
            f"Table {start}. {whole_caption} - {title}", whole_caption, "", headers,
            [None, None] + metric_decimals + [2] * n_group,
            [None, None] + metric_specs + [c for g in whole_groups for c in _group_columns(g)],
            [[r.label, r.test] + metric_values(r) + [v for g in whole_groups for v in _group_values(r, g)]
             for r in runs],
            [g["about"] for g in whole_groups] + [n for g in whole_groups for n in group_notes[g["key"]]]
            + no_unknown + common))
    for g in own_tables:
        n = len(g["values"]) + 1
        tables.append(make(
            f"Table {start + len(tables)}. {g['title']} - {title}", g["title"], g["key"],
            head + list(g["values"].values()) + ["Avg."], [None, None] + [2] * n,
            [None, None] + _group_columns(g), [[r.label, r.test] + _group_values(r, g) for r in runs],
            [g["about"]] + group_notes[g["key"]] + common))
    if tables:
        tables[-1].notes[len(tables[-1].notes) - len(common):len(tables[-1].notes) - len(common)] = other
    return tables


def tables_of_sets(sets: dict[tuple, list[Run]], combined: bool = False, layout: Layout = Layout()) -> list[Table]:
    """The tables of every (dataset, variant) set, never mixing either; LaTeX labels unique."""
    several = len({name for name, _ in sets}) > 1
    tables: list[Table] = []
    for (name, variant), runs in sets.items():
        title = runs[-1].dataset["title"] if several else ""
        tables += tables_of_set(variant, runs, len(tables) + 1, combined, title, layout, name,
                                runs[-1].dataset["title"])
    seen: dict[str, int] = {}
    for t in tables:
        seen[t.label] = seen.get(t.label, 0) + 1
        if seen[t.label] > 1:
            t.label = f"{t.label}-{seen[t.label]}"
    return tables


def build_tables(results: Sequence[dict], references: Sequence[str] = (), combined: bool = False,
                 columns: str | Sequence[str] | None = None, scale_mse: bool = False,
                 trust_summary: bool = False) -> list[Table]:
    """The tables to render: one set per (dataset, variant), never mixing either."""
    sets = table_sets(results, references, trust_summary)
    return tables_of_sets(sets, combined, Layout(resolve_columns(columns, sets), scale_mse))


def pivot_of_sets(sets: dict[tuple, list[Run]], metric: str, scale_mse: bool = False) -> Table:
    """One table of ``metric``: a row per run (label and Test), a column per (dataset, variant)."""
    metric = resolve_metric(metric, sets)
    columns = list(sets)
    labels: list[tuple[str, str]] = []
    cells: dict[tuple, dict] = {}
    header, decimals = metric, 2
    for key, runs in sets.items():
        if any(metric in run.metrics for run in runs):
            header, decimals = header_of(metric, key[1], runs)
        for run in runs:
            row_key = (run.label, run.test)
            if row_key not in labels:
                labels.append(row_key)
            cells.setdefault(row_key, {})[key] = run
    scale = 1000.0 if scale_mse and _scaled(metric) else 1.0
    shown = header
    if scale != 1.0:
        shown, decimals = f"{header} (×10⁻³)", max(1, decimals - 2)
    specs = [Column(metric, higher=metric in higher_is_better(c[1], sets[c]), scale=scale) for c in columns]
    headers = ["Model / run", "Test"] + [f"{sets[c][-1].dataset['title']} ({c[1]})" for c in columns]
    rows, cell_runs = [], []
    for label, test in labels:
        runs = [cells[(label, test)].get(c) for c in columns]
        rows.append([label, test] + [None if r is None else _value(r, spec) for r, spec in zip(runs, specs)])
        cell_runs.append([None, None] + runs)
    notes = [f"{shown} ({metric}) per dataset and metric variant; an empty cell: no run of that row on that dataset."]
    for c in columns:
        notes += [n for n in _common_notes(c[1], sets[c]) if "published numbers" in n or "trimaps" in n]
        notes += _row_notes(sets[c]) + _identity_notes(sets[c])
    what = f"{shown} across datasets"
    return Table(f"Table 1. {what}", headers, [None, None] + [decimals] * len(columns), rows,
                 list(dict.fromkeys(notes)), title=f"{what} (mean over images; a column per dataset and metric "
                                                   "variant)",
                 label=f"tab:pivot-{_slug(metric)}", columns=[None, None] + specs, cell_runs=cell_runs)


def pivot_table(results: Sequence[dict], metric: str, references: Sequence[str] = (),
                scale_mse: bool = False, trust_summary: bool = False) -> Table:
    """One table of ``metric``: a row per run, a column per (dataset, variant)."""
    return pivot_of_sets(table_sets(results, references, trust_summary), metric, scale_mse)


def flat_of_sets(sets: dict[tuple, list[Run]], columns: Sequence[str] | None = None) -> Table:
    """Every run with every number at full precision: the CSV's table."""
    keys: list[str] = []
    group_cols: list[tuple[str, str | None]] = []
    for (_, variant), runs in sets.items():
        keys += [k for k, _, _ in metric_columns(variant, runs) if k not in keys]
        for run in runs:
            keys += [k for k in run.metrics if k not in keys]
        for g in _group_defs(runs):
            group_cols += [(g["key"], v) for v in [*g["values"], None] if (g["key"], v) not in group_cols]
    if columns is not None:
        keys = [k for k in columns if k in keys]
        group_cols = [(g, v) for k in columns for g, v in group_cols if g == k]
    headers = (["variant", "run", "test", "reference", "dataset", "num_images"] + keys
               + [f"sad_{v}" if v is not None else f"sad_{k}_avg" for k, v in group_cols])
    rows, cell_runs, specs_by_row = [], [], []
    for (name, variant), runs in sets.items():
        higher = higher_is_better(variant, runs)
        for r in runs:
            rows.append([variant, r.label, r.test, "published" if r.reference else "measured", name,
                         r.dataset["num_images"]] + [r.metrics.get(k) for k in keys]
                        + [r.groups.get(k, {}).get("avg" if v is None else v) for k, v in group_cols])
            cell_runs.append([None] * 6 + [r] * (len(keys) + len(group_cols)))
            specs_by_row.append(higher)
    specs = [None] * 6 + [Column(k, higher=any(k in h for h in specs_by_row)) for k in keys] + [
        Column("sad", k, v, avg=v is None) for k, v in group_cols]
    return Table("", headers, [None] * len(headers), rows, [], columns=specs, cell_runs=cell_runs)


def flat_table(results: Sequence[dict], references: Sequence[str] = (), trust_summary: bool = False) -> Table:
    """Every run with every number at full precision: the CSV's table."""
    return flat_of_sets(table_sets(results, references, trust_summary))
