"""Statistics on the cells of tables, from the runs' per-image rows (:mod:`matbench.stats`):
bootstrap intervals of the means (``--ci``) and paired tests against a baseline run
(``--baseline``), with the notes that say how they were computed."""
from __future__ import annotations

from typing import Iterable, Sequence

from ..errors import MatbenchError
from ..stats import bootstrap_mean_ci, compare_to_baseline
from .model import Column, Table
from .runs import Run

CONFIDENCE = 0.95
RESAMPLES = 2000
ALPHA = 0.05
#: how a significant difference is marked, per writer (Markdown and HTML share the symbols)
SYMBOLS = {"better": "▲", "worse": "▼"}


def _values(run: Run, column: Column) -> dict[str, float | None]:
    """``{image: value}`` of what a cell averages (images of the column's group value only)."""
    rows = run.rows or {}
    if column.group is not None:
        return {n: r.get(column.key) for n, r in rows.items() if r.get(column.group) == column.value}
    return {n: r.get(column.key) for n, r in rows.items()}


def _testable(column: Column | None) -> bool:
    return column is not None and not column.avg


def add_intervals(tables: Iterable[Table], confidence: float = CONFIDENCE, resamples: int = RESAMPLES) -> None:
    """Each mean of a measured run gets its percentile bootstrap interval (``Table.cis``); the
    notes say how, and which cells have none."""
    cache: dict[tuple, tuple[float, float] | None] = {}
    for t in tables:
        t.confidence = confidence
        t.cis = [[None] * len(t.headers) for _ in t.rows]
        published = avg = False
        for r, row_runs in enumerate(t.cell_runs):
            for c, run in enumerate(row_runs):
                column = t.columns[c] if c < len(t.columns) else None
                if run is None or column is None or t.rows[r][c] is None:
                    continue
                if column.avg:
                    avg = True
                    continue
                if not run.measured:
                    published = True
                    continue
                key = (id(run), column.key, column.group, column.value)
                if key not in cache:
                    values = [v for v in _values(run, column).values() if v is not None]
                    cache[key] = (bootstrap_mean_ci(values, confidence=confidence, resamples=resamples)
                                  if values else None)
                if cache[key] is not None:
                    lo, hi = cache[key]
                    t.cis[r][c] = (lo * column.scale, hi * column.scale)
        if not any(ci for row in t.cis for ci in row):
            continue
        pct = f"{confidence * 100:g} %"
        notes = [f"±: half the width of the {pct} percentile bootstrap interval of the mean over images "
                 f"({resamples:,} resamples of the images, seed 0)."]
        if published:
            notes.append("Rows without per-image values (published numbers, --trust-summary files) have no interval.")
        if avg:
            notes.append("Avg. columns (a mean of group means) have no interval.")
        t.notes = notes + t.notes


def baseline_runs(sets: dict[tuple, list[Run]], label: str) -> list[Run]:
    """The run called ``label`` in each set that has one (its label as shown, else its own
    label, else either in any case). None anywhere, two in one set, or a published row is an
    error listing the labels."""
    found: list[Run] = []
    for runs in sets.values():
        for match in (lambda r: r.label == label, lambda r: r.own_label == label,
                      lambda r: label.lower() in (r.label.lower(), r.own_label.lower())):
            hits = [r for r in runs if match(r)]
            if hits:
                break
        if len(hits) > 1:
            raise MatbenchError(f"--baseline '{label}' matches {len(hits)} rows of one table "
                                f"({'; '.join(r.name for r in hits)}); give one of their labels as shown")
        found += hits
    labels = list(dict.fromkeys(r.label for runs in sets.values() for r in runs))
    if not found:
        raise MatbenchError(f"--baseline '{label}' is not a run (labels: {'; '.join(labels)})")
    unpaired = [r for r in found if not r.measured]
    if unpaired:
        raise MatbenchError(f"--baseline '{label}': {unpaired[0].name} has no per-image values to pair "
                            f"(a published or summary-only row); runs: "
                            f"{'; '.join(dict.fromkeys(r.label for rs in sets.values() for r in rs if r.measured))}")
    return found


def add_baseline(tables: Iterable[Table], baselines: Sequence[Run], alpha: float = ALPHA) -> None:
    """Mark each measured run's cell significantly better / worse than the baseline's in the same
    column (paired Wilcoxon signed-rank on the images both scored, Holm across the runs compared
    per column): ``Table.marks``; the notes say the test, the correction and the pairing."""
    chosen = {id(b) for b in baselines}
    for t in tables:
        t.marks = [[None] * len(t.headers) for _ in t.rows]
        compared: dict[int, Run] = {}
        base_of_table: Run | None = None
        avg = skipped = False
        for c, column in enumerate(t.columns):
            if column is None:
                continue
            col = [(r, row[c]) for r, row in enumerate(t.cell_runs) if row[c] is not None]
            base = [(r, run) for r, run in col if id(run) in chosen]
            if not base:
                continue
            if column.avg:
                avg = True
                continue
            b_row, b_run = base[0]
            base_of_table = b_run
            others = [(r, run) for r, run in col if run is not b_run and run.measured]
            skipped = skipped or any(not run.measured for _, run in col)
            if not others:
                continue
            t.marks[b_row][c] = ("baseline", None)
            rows = [{n: {column.key: v} for n, v in _values(run, column).items()}
                    for run in [b_run] + [o for _, o in others]]
            result = compare_to_baseline(rows, 0, [column.key], {column.key} if column.higher else set(), alpha)
            for i, (r, run) in enumerate(others, 1):
                paired, mark = result[(i, column.key)]
                t.marks[r][c] = (mark, paired) if paired.n else None
                compared[id(run)] = run
        if base_of_table is None or not compared:
            if skipped:
                t.notes = ["Rows without per-image values (published numbers, --trust-summary files) are not "
                           "compared with the baseline."] + t.notes
            continue
        base = base_of_table
        n_base = len(base.rows)
        counts = []
        partial = []
        for run in compared.values():
            shared = len(set(run.rows) & set(base.rows))
            counts.append(f"{run.name} {shared}")
            if shared != len(run.rows) or shared != n_base:
                partial.append(f"{run.name}: compared with the baseline on the {shared} images both scored "
                               f"({len(run.rows) - shared} of its images are not in the baseline's, "
                               f"{n_base - shared} of the baseline's are not in its).")
        notes = [f"{SYMBOLS['better']} / {SYMBOLS['worse']}: significantly better / worse than the baseline "
                 f"{base.name} by the metric's direction (two-sided Wilcoxon signed-rank test on per-image "
                 f"differences, Holm-Bonferroni correction across the {len(compared)} run(s) compared in each "
                 f"column, α = {alpha:g}); no mark: no significant difference. Images paired: "
                 f"{', '.join(counts)}; an image without a value (null) is left out of that column's test."]
        notes += partial
        if avg:
            notes.append("Avg. columns (a mean of group means) are not tested.")
        if skipped:
            notes.append("Rows without per-image values (published numbers, --trust-summary files) are not tested.")
        t.notes = notes + t.notes
