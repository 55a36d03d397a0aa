"""The table model: runs and published rows grouped by (dataset, metric variant), each set laid out
as the AIM README lays out its tables — one whole-image table (metrics, plus the columns of the
groups the dataset puts there) and one table per other group — or as one pivot table of a chosen
metric across datasets.

Cells show what papers show: SAD-like values with 2 decimals, MSE and MAD with 4 (each metric
variant declares its columns). A group value with no image has an empty cell and is left out of
"Avg." (the unweighted mean of the group means); a note under the table says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..errors import MatbenchError
from ..groups import group_specs
from .loading import _dataset_class, check_results, dataset_of, groups_of, test_name
from .references import load_references


@dataclass
class Run:
    """One row: a measured run or a published one."""

    label: str
    test: str
    variant: str
    dataset: dict                    # name, title, num_images
    metrics: dict
    groups: dict                     # group key -> {value: mean SAD or None, "avg": ...}
    group_defs: list
    reference: str | None = None     # the source of a published row
    extra_groups: list = field(default_factory=list)   # values outside the declared columns
    no_unknown: int = 0
    trimaps: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.label} [{self.test}]" if self.test else self.label


@dataclass
class Table:
    caption: str
    headers: list
    decimals: list                   # per column: None for text (or full precision), else decimals
    rows: list                       # raw values: str for text, float|None for numbers
    notes: list


def run_from_results(res: dict, index: int) -> Run:
    meta, summary = res["meta"], res["summary"]
    defs = groups_of(res)
    groups, extra = {}, []
    for g in defs:
        part = summary.get(g["key"]) or {}
        sad = part.get("sad") or {}
        groups[g["key"]] = {**{v: sad.get(v) for v in g["values"]}, "avg": part.get("avg")}
        extra += [v for v in sad if v not in g["values"]]
    dataset = meta.get("dataset") if isinstance(meta.get("dataset"), Mapping) else {}
    return Run(label=str(meta.get("label") or f"run {index + 1}"), test=test_name(meta), variant=meta["variant"],
               dataset={**dataset_of(meta), "num_images": dataset.get("num_images", summary.get("count", "?"))},
               metrics=summary["metrics"], groups=groups, group_defs=defs, extra_groups=extra,
               no_unknown=len(summary.get("no_unknown_region") or []),
               trimaps=dict(dataset.get("trimaps") or {}))


def reference_runs(source: Mapping) -> list[Run]:
    rows = []
    for row in source["rows"]:
        cls = _dataset_class(row["dataset"])
        info = dict(getattr(cls, "METAINFO", {}) or {})
        defs = group_specs(info.get("groups"))
        groups = {g["key"]: dict(row.get("groups", {}).get(g["key"], {})) for g in defs}
        rows.append(Run(label=str(row["label"]), test=str(row.get("test") or row.get("setting", "")),
                        variant=str(row["variant"]),
                        dataset={"name": str(row["dataset"]), "title": str(info.get("title") or row["dataset"]),
                                 "num_images": row.get("num_images", "?")},
                        metrics=dict(row["metrics"]), groups=groups, group_defs=defs,
                        reference=str(source["source"])))
    return rows


# --------------------------------------------------------------------------- variants

def _metric_class(variant: str) -> Any:
    from ..plugins import load_plugins_for
    from ..registry import METRICS

    load_plugins_for(METRICS, variant)
    return METRICS.module_dict.get(variant)


def _known_headers() -> dict[str, tuple[str, int]]:
    from ..plugins import load_plugins_of
    from ..registry import METRICS

    load_plugins_of(METRICS)
    headers: dict[str, tuple[str, int]] = {}
    for cls in METRICS.module_dict.values():        # the first variant to name a key wins
        for key, head, decimals in getattr(cls, "columns", ()):
            headers.setdefault(key, (head, decimals))
        for key, spec in (getattr(cls, "headers", {}) or {}).items():
            headers.setdefault(key, spec)
    return headers


def metric_columns(variant: str, runs: Sequence[Run]) -> list[tuple[str, str, int]]:
    """(key, header, decimals) of the whole-image table: the variant's declared columns, else
    every metric of the runs (known headers where a registered variant names them)."""
    declared = tuple(getattr(_metric_class(variant), "columns", ()) or ())
    if declared:
        return list(declared)
    keys: list[str] = []
    for run in runs:
        keys += [k for k in run.metrics if k not in keys]
    known = _known_headers()
    return [(k, *known.get(k, (k, 4 if k.startswith(("mse", "mad")) else 2))) for k in keys]


def variant_title(variant: str) -> str:
    title = getattr(_metric_class(variant), "title", "")
    return f"variant {variant} ({title})" if title else f"variant {variant}"


# --------------------------------------------------------------------------- grouping

def table_sets(results: Sequence[dict], references: Sequence[str] = ()) -> dict[tuple, list[Run]]:
    """Runs by (dataset name, variant) in order of appearance; published rows first in theirs."""
    if not results and not references:
        raise MatbenchError("no results to tabulate")
    sets: dict[tuple, list[Run]] = {}
    for i, res in enumerate(results):
        check_results(res, _source_name(res, i))
        run = run_from_results(res, i)
        sets.setdefault((run.dataset["name"], run.variant), []).append(run)
    published: dict[tuple, list[Run]] = {}
    for source in load_references(list(references)):
        for run in reference_runs(source):
            published.setdefault((run.dataset["name"], run.variant), []).append(run)
    for key, runs in published.items():
        sets[key] = runs + sets.get(key, [])
    return sets


def _source_name(res: object, index: int) -> str:
    meta = res.get("meta") if isinstance(res, dict) else None
    label = meta.get("label") if isinstance(meta, dict) else None
    return f"results[{index}] ({label})" if label else f"results[{index}]"


def _group_defs(runs: Sequence[Run]) -> list[dict]:
    defs: dict[str, dict] = {}
    for run in runs:
        for g in run.group_defs:
            defs.setdefault(g["key"], g)
    return list(defs.values())


# --------------------------------------------------------------------------- notes

def _fmt2(v: float) -> str:
    return f"{v:.2f}"


def _missing_notes(runs: Sequence[Run], group: dict) -> list[str]:
    notes, key, headers = [], group["key"], group["values"]
    for run in runs:
        values = run.groups.get(key, {})
        missing = [v for v in headers if values.get(v) is None]
        if missing and len(missing) < len(headers):
            present = [headers[v] for v in headers if v not in missing]
            notes.append(f"{run.name}: no image of {key} {', '.join(headers[v] for v in missing)}; "
                         f"{'that cell is' if len(missing) == 1 else 'those cells are'} empty and Avg. is the "
                         f"mean of {', '.join(present)} only.")
        elif missing and headers:
            notes.append(f"{run.name}: no image has a known {key}; the {key} columns are empty.")
    return notes


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
    sizes: dict[object, list[str]] = {}
    for run in runs:
        sizes.setdefault(run.dataset["num_images"], [])
        if run.name not in sizes[run.dataset["num_images"]]:
            sizes[run.dataset["num_images"]].append(run.name)
    if len(sizes) > 1:
        parts = "; ".join(f"{n} images: {', '.join(names)}" for n, names in sizes.items())
        notes.append(f"The rows are not scored on the same images and are not directly comparable: {parts}.")
    generated = [run for run in runs if run.trimaps.get("source") == "generated"]
    if generated and getattr(_metric_class(variant), "uses_trimap", True):
        rule = generated[0].trimaps.get("rule")
        notes.append(f"{', '.join(r.name for r in generated)}: scored with trimaps generated by matbench from the "
                     f"true alpha (rule {rule}), not official ones.")
    note = getattr(_metric_class(variant), "note", "")
    if note:
        notes.append(note)
    return notes


# --------------------------------------------------------------------------- tables

def _group_values(run: Run, group: dict) -> list:
    values = run.groups.get(group["key"], {})
    return [values.get(v) for v in group["values"]] + [values.get("avg")]


def tables_of_set(variant: str, runs: Sequence[Run], start: int, combined: bool, dataset_title: str) -> list[Table]:
    """The tables of one (dataset, variant) set, numbered from ``start``."""
    metric_cols = metric_columns(variant, runs)
    title = variant_title(variant) if not dataset_title else f"{dataset_title} - {variant_title(variant)}"
    defs = _group_defs(runs)
    whole_groups = [g for g in defs if g["placement"] == "whole"]
    own_tables = [g for g in defs if g["placement"] == "table"]
    common = _common_notes(variant, runs)
    head = ["Model / run", "Test"]
    group_notes = {g["key"]: _missing_notes(runs, g) + _published_avg_notes(runs, g) for g in defs}
    other = [f"{r.name}: images of group(s) {', '.join(r.extra_groups)} are in no column and not in Avg."
             for r in runs if r.extra_groups]
    no_unknown = [f"{r.name}: {r.no_unknown} image(s) without unknown region (no trimap 128 pixel); metrics "
                  "undefined there are left out of their means." for r in runs if r.no_unknown]

    def metric_values(run: Run) -> list:
        return [run.metrics.get(k) for k, _, _ in metric_cols]

    if combined:
        headers = head + [h for _, h, _ in metric_cols]
        for g in defs:
            headers += list(g["values"].values()) + [g["avg_header"]]
        decimals = [None, None] + [d for _, _, d in metric_cols] + [2] * (len(headers) - 2 - len(metric_cols))
        rows = [[r.label, r.test] + metric_values(r) + [v for g in defs for v in _group_values(r, g)] for r in runs]
        notes = [g["about"].replace("Avg.", g["avg_header"]) for g in defs]
        notes += [n for g in defs for n in group_notes[g["key"]]]
        caption = " and ".join(["Whole image"] + [g["title"] for g in own_tables])
        return [Table(f"Table {start}. {caption} - {title}", headers, decimals, rows,
                      notes + other + no_unknown + common)]

    whole_caption = "Whole image" + (f" ({variant} convention)" if variant == "dim" else "")
    headers = head + [h for _, h, _ in metric_cols]
    for g in whole_groups:
        headers += list(g["values"].values()) + ["Avg." if len(whole_groups) == 1 else g["avg_header"]]
    tables = [Table(
        caption=f"Table {start}. {whole_caption} - {title}", headers=headers,
        decimals=[None, None] + [d for _, _, d in metric_cols] + [2] * (len(headers) - 2 - len(metric_cols)),
        rows=[[r.label, r.test] + metric_values(r) + [v for g in whole_groups for v in _group_values(r, g)]
              for r in runs],
        notes=[g["about"] for g in whole_groups] + [n for g in whole_groups for n in group_notes[g["key"]]]
        + no_unknown + common)]
    for g in own_tables:
        tables.append(Table(
            caption=f"Table {start + len(tables)}. {g['title']} - {title}",
            headers=head + list(g["values"].values()) + ["Avg."],
            decimals=[None, None] + [2] * (len(g["values"]) + 1),
            rows=[[r.label, r.test] + _group_values(r, g) for r in runs],
            notes=[g["about"]] + group_notes[g["key"]] + common))
    tables[-1].notes[len(tables[-1].notes) - len(common):len(tables[-1].notes) - len(common)] = other
    return tables


def build_tables(results: Sequence[dict], references: Sequence[str] = (), combined: bool = False) -> list[Table]:
    """The tables to render: one set per (dataset, variant), never mixing either."""
    sets = table_sets(results, references)
    several = len({name for name, _ in sets}) > 1
    tables: list[Table] = []
    for (_, variant), runs in sets.items():
        title = runs[-1].dataset["title"] if several else ""
        tables += tables_of_set(variant, runs, len(tables) + 1, combined, title)
    return tables


def pivot_table(results: Sequence[dict], metric: str, references: Sequence[str] = ()) -> Table:
    """One table of ``metric``: a row per run, a column per (dataset, variant)."""
    sets = table_sets(results, references)
    columns = list(sets)
    labels: list[tuple[str, str]] = []
    values: dict[tuple, dict] = {}
    decimals = 2
    for key, runs in sets.items():
        for col_key, _, dec in metric_columns(key[1], runs):
            if col_key == metric:
                decimals = dec
        for run in runs:
            row_key = (run.label, run.test)
            if row_key not in labels:
                labels.append(row_key)
            values.setdefault(row_key, {})[key] = run.metrics.get(metric)
    if not any(metric in run.metrics for runs in sets.values() for run in runs):
        known = sorted({k for runs in sets.values() for run in runs for k in run.metrics})
        raise MatbenchError(f"--pivot {metric}: no run has this metric (known: {', '.join(known)})")
    headers = ["Model / run", "Test"] + [f"{sets[c][-1].dataset['title']} ({c[1]})" for c in columns]
    rows = [[label, test] + [values[(label, test)].get(c) for c in columns] for label, test in labels]
    notes = [f"{metric} per dataset and metric variant; an empty cell: no run of that row on that dataset."]
    for c in columns:
        notes += [n for n in _common_notes(c[1], sets[c]) if "published numbers" in n or "trimaps" in n]
    return Table(f"Table 1. {metric} across datasets", headers, [None, None] + [decimals] * len(columns), rows,
                 list(dict.fromkeys(notes)))


def flat_table(results: Sequence[dict], references: Sequence[str] = ()) -> Table:
    """Every run with every number at full precision: the CSV's table."""
    sets = table_sets(results, references)
    keys: list[str] = []
    group_cols: list[tuple[str, str | None]] = []
    for (_, variant), runs in sets.items():
        keys += [k for k, _, _ in metric_columns(variant, runs) if k not in keys]
        for run in runs:
            keys += [k for k in run.metrics if k not in keys]
        for g in _group_defs(runs):
            group_cols += [(g["key"], v) for v in [*g["values"], None] if (g["key"], v) not in group_cols]
    headers = (["variant", "run", "test", "reference", "dataset", "num_images"] + keys
               + [f"sad_{v}" if v is not None else f"sad_{k}_avg" for k, v in group_cols])
    rows = []
    for (name, variant), runs in sets.items():
        for r in runs:
            rows.append([variant, r.label, r.test, "published" if r.reference else "measured", name,
                         r.dataset["num_images"]] + [r.metrics.get(k) for k in keys]
                        + [r.groups.get(k, {}).get("avg" if v is None else v) for k, v in group_cols])
    return Table("", headers, [None] * len(headers), rows, [])
