"""Aggregation of per-image rows into the paper's summary numbers."""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(vals) / len(vals) if vals else None


def _group(rows: Sequence[dict], field: str, groups: Sequence[str], key: str) -> dict:
    names = list(groups) + sorted({r[field] for r in rows} - set(groups))
    means = {g: _mean(r.get(key) for r in rows if r[field] == g) for g in names}
    counts = {g: sum(1 for r in rows if r[field] == g) for g in names}
    present = [means[g] for g in groups if means[g] is not None]
    return {
        "sad": means,
        "count": counts,
        "avg": sum(present) / len(present) if present else None,
        "missing": [g for g in groups if means[g] is None],
    }


def summarize(rows: Sequence[dict], keys: Sequence[str], groups: Sequence[Mapping] = ()) -> dict:
    """Means over images of every metric, and for each group the mean SAD per value with its
    "Avg." (the unweighted mean of the value means, as the AIM README computes it).

    ``groups`` are the dataset's group definitions (:mod:`matbench.groups`); each adds
    ``summary[group key]``. Declared values with no image are left out of "Avg." and listed under
    ``missing``; values the dataset did not declare are reported but not averaged. A value of
    ``None`` in a row (e.g. a trimap metric on an image without unknown pixels) is left out of
    that metric's mean.
    """
    summary: dict = {"count": len(rows), "metrics": {k: _mean(r.get(k) for r in rows) for k in keys}}
    for group in groups:
        summary[group["key"]] = _group(rows, group["key"], list(group["values"]), "sad")
    summary["no_unknown_region"] = sorted(r["name"] for r in rows if r.get("unknown_pixels") == 0)
    return summary
