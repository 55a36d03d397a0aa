"""The rows of tables: measured runs, their numbers recomputed from their per-image rows (a stored
summary is never shown as truth), and published rows; grouped by (dataset, metric variant), with
a run placed under the published row it reproduces and runs that share a label told apart."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import InputError, MatbenchError
from ..evaluation.summary import summarize
from ..groups import group_specs
from .loading import _dataset_class, check_results, dataset_of, groups_of, test_name
from .references import load_references
from .variants import metric_class, recorded


@dataclass
class Run:
    """One row: a measured run or a published one."""

    label: str                       # as shown: unique within its (dataset, variant) set
    test: str
    variant: str
    dataset: dict                    # name, title, num_images
    metrics: dict
    groups: dict                     # group key -> {value: mean SAD or None, "avg": ...}
    group_defs: list
    reference: str | None = None     # the source of a published row (its one-line citation)
    extra_groups: list = field(default_factory=list)   # values outside the declared columns
    no_unknown: int = 0
    trimaps: dict = field(default_factory=dict)
    #: per-image rows by image name; None for published rows and summary-only files
    rows: dict | None = None
    meta: dict = field(default_factory=dict)
    origin: str = ""                 # the results file (or results[i]) it came from
    own_label: str = ""              # meta.label, before it was told apart or paired
    reference_name: str | None = None   # the registered source of a published row
    metric_desc: dict | None = None  # meta.metric
    stored_mismatch: list = field(default_factory=list)  # what the stored summary gets wrong
    paired_with: tuple | None = None # (reference source, row label) it is shown under
    told_apart_by: str = ""          # what was appended to its label, and why

    @property
    def name(self) -> str:
        return f"{self.label} [{self.test}]" if self.test else self.label

    @property
    def measured(self) -> bool:
        return self.rows is not None


def _origin(res: object, index: int) -> str:
    path = getattr(res, "path", None)
    if path is not None:
        return os.fspath(path)
    meta = res.get("meta") if isinstance(res, dict) else None
    label = meta.get("label") if isinstance(meta, dict) else None
    return f"results[{index}] ({label})" if label else f"results[{index}]"


def result_keys(res: Mapping) -> list[str]:
    """The metric keys of a run: as its file records the variant, else as the registered class
    declares it, else the keys of its stored summary (older files)."""
    desc = recorded(res["meta"])
    if desc and isinstance(desc.get("keys"), list) and desc["keys"]:
        return [str(k) for k in desc["keys"]]
    keys = getattr(metric_class(res["meta"]["variant"]), "keys", ())
    return list(keys) if keys else list(res["summary"]["metrics"])


def _differs(stored: object, computed: object) -> bool:
    if stored is None or computed is None:
        return stored is not computed
    if not isinstance(stored, (int, float)) or isinstance(stored, bool):
        return True
    return not math.isclose(stored, computed, rel_tol=1e-9, abs_tol=1e-12)


def _mismatches(stored: Mapping, computed: Mapping, keys: Sequence[str], defs: Sequence[dict]) -> list[str]:
    found = []
    for k in keys:
        if k in stored["metrics"] and _differs(stored["metrics"][k], computed["metrics"][k]):
            found.append((k, stored["metrics"][k], computed["metrics"][k]))
    for g in defs:
        part, mine = stored.get(g["key"]) or {}, computed[g["key"]]
        for v in g["values"]:
            if v in (part.get("sad") or {}) and _differs(part["sad"][v], mine["sad"][v]):
                found.append((f"sad {g['key']} {v}", part["sad"][v], mine["sad"][v]))
        if "avg" in part and _differs(part["avg"], mine["avg"]):
            found.append((f"{g['key']} Avg.", part["avg"], mine["avg"]))

    def shown(v: object) -> str:
        return f"{v:.6g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else repr(v)
    return [f"{k} stored {shown(s)}, from the rows {shown(c)}" for k, s, c in found]


def run_from_results(res: dict, index: int, trust_summary: bool = False) -> Run:
    """A measured row: every number recomputed from ``per_image`` with the run's keys and groups.
    A file without per-image rows is refused unless ``trust_summary`` (its stored summary is
    then shown as it is, and said so)."""
    meta, stored = res["meta"], res["summary"]
    origin = _origin(res, index)
    defs = groups_of(res)
    rows = res["per_image"]
    if rows:
        keys = result_keys(res)
        for i, row in enumerate(rows):
            for g in defs:
                if not isinstance(row.get(g["key"]), str):
                    raise InputError(origin, f"per_image[{i}].{g['key']}: expected the image's {g['key']} "
                                             f"(a string; meta.groups declares it), got {row.get(g['key'])!r}")
        summary = summarize(rows, keys, defs)
        mismatch = _mismatches(stored, summary, keys, defs)
    elif trust_summary:
        summary, mismatch = stored, []
    else:
        raise InputError(origin, "no per-image rows (per_image is empty): tables are computed from them; "
                                 "published numbers belong in a reference file, or pass --trust-summary "
                                 "to show this file's stored summary as it is")
    groups, extra = {}, []
    for g in defs:
        part = summary.get(g["key"]) or {}
        sad = part.get("sad") or {}
        groups[g["key"]] = {**{v: sad.get(v) for v in g["values"]}, "avg": part.get("avg")}
        extra += [v for v in sad if v not in g["values"]]
    dataset = meta.get("dataset") if isinstance(meta.get("dataset"), Mapping) else {}
    label = str(meta.get("label") or f"run {index + 1}")
    return Run(label=label, test=test_name(meta), variant=meta["variant"],
               dataset={**dataset_of(meta), "num_images": dataset.get("num_images", summary.get("count", "?"))},
               metrics=dict(summary["metrics"]), groups=groups, group_defs=defs, extra_groups=extra,
               no_unknown=len(summary.get("no_unknown_region") or []),
               trimaps=dict(dataset.get("trimaps") or {}),
               rows={row["name"]: row for row in rows} if rows else None, meta=dict(meta), origin=origin,
               own_label=label, metric_desc=recorded(meta), stored_mismatch=mismatch)


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
                        reference=str(source["source"]), own_label=str(row["label"]),
                        reference_name=str(source.get("name", ""))))
    return rows


# --------------------------------------------------------------------------- grouping

def table_sets(results: Sequence[dict], references: Sequence[str] = (),
               trust_summary: bool = False) -> dict[tuple, list[Run]]:
    """Runs by (dataset name, variant) in order of appearance; published rows first in theirs,
    each followed by the runs that reproduce it; runs sharing a label are told apart."""
    if not results and not references:
        raise MatbenchError("no results to tabulate")
    sets: dict[tuple, list[Run]] = {}
    for i, res in enumerate(results):
        check_results(res, _origin(res, i))
        run = run_from_results(res, i, trust_summary)
        sets.setdefault((run.dataset["name"], run.variant), []).append(run)
    published: dict[tuple, list[Run]] = {}
    for source in load_references(list(references)):
        for run in reference_runs(source):
            published.setdefault((run.dataset["name"], run.variant), []).append(run)
    for key, runs in published.items():
        sets[key] = _place_under_published(runs, sets.get(key, []))
    for runs in sets.values():
        _tell_apart(runs)
    return sets


def _place_under_published(published: list[Run], measured: list[Run]) -> list[Run]:
    """Published rows in their order, each directly followed by the runs whose model declares it
    (``meta.published_as``), both under one base label; then the other runs."""
    under: dict[int, list[Run]] = {}
    for run in measured:
        claims = run.meta.get("published_as") if isinstance(run.meta.get("published_as"), Mapping) else {}
        for source, row_label in claims.items():
            targets = [p for p in published if p.reference_name == source and p.own_label == row_label]
            if not targets:
                continue
            target = next((p for p in targets if p.test == run.test), targets[-1])
            under.setdefault(id(target), []).append(run)
            run.paired_with = (str(source), str(row_label))
            run.label = _tagged(str(row_label), "matbench")
            break
    order: list[Run] = []
    for p in published:
        if id(p) in under:
            p.label = _tagged(p.own_label, "published")
        order += [p, *under.get(id(p), [])]
    return order + [r for r in measured if r.paired_with is None]


def _tagged(label: str, tag: str) -> str:
    """``Net`` -> ``Net (published)``; ``Net (paper)`` -> ``Net (paper, published)``."""
    if label.endswith(")") and "(" in label:
        return f"{label[:-1]}, {tag})"
    return f"{label} ({tag})"


def _source_options(run: Run) -> dict:
    source = run.meta.get("source") if isinstance(run.meta.get("source"), Mapping) else {}
    model = source.get("model") if isinstance(source.get("model"), Mapping) else {}
    return {k: v for k, v in model.items() if k != "type"}


def _work_dir_name(run: Run) -> str | None:
    if isinstance(run.meta.get("work_dir"), str) and run.meta["work_dir"]:
        return Path(run.meta["work_dir"]).name
    return Path(run.origin).parent.name if os.sep in run.origin or "/" in run.origin else None


def _checkpoint_name(run: Run) -> str | None:
    source = run.meta.get("source") if isinstance(run.meta.get("source"), Mapping) else {}
    return Path(str(source["checkpoint"])).name if source.get("checkpoint") else None


def _tell_apart(runs: list[Run]) -> None:
    """Give runs that share (label, Test) with another row of the set a suffix: the checkpoint,
    the model options that differ, the work dir, the results file, else their order. Published
    rows keep their label unless two of them clash (then: their source, else their order)."""
    clashes: dict[tuple, list[Run]] = {}
    for run in runs:
        clashes.setdefault((run.label, run.test), []).append(run)
    for clash in clashes.values():
        if len(clash) < 2:
            continue
        mine = [r for r in clash if r.reference is None]
        published = [r for r in clash if r.reference is not None]
        if mine:
            _suffix(mine, _run_candidates(mine))
        if len(published) > 1:
            _suffix(published, [("reference source", [r.reference_name for r in published])])


def _run_candidates(runs: list[Run]) -> list[tuple[str, list]]:
    options = [_source_options(r) for r in runs]
    differing = sorted({k for o in options for k in o if any(o.get(k) != p.get(k) for p in options)})
    return [("checkpoint", [_checkpoint_name(r) for r in runs]),
            ("model options", [", ".join(f"{k}={o.get(k)!r}" for k in differing) or None for o in options]),
            ("work dir", [_work_dir_name(r) for r in runs]),
            ("results file", [r.origin for r in runs])]


def _suffix(runs: list[Run], candidates: list[tuple[str, list]]) -> None:
    for basis, names in candidates:
        if all(names) and len(set(names)) == len(runs):
            break
    else:
        basis, names = "order", [f"#{k}" for k in range(1, len(runs) + 1)]
    for run, suffix in zip(runs, names):
        run.label = f"{run.label} ({suffix})"
        run.told_apart_by = basis
