"""Groups of images a dataset declares (e.g. an image type and a category), as plain data.

A dataset plugin lists its groups in ``METAINFO["groups"]``; the summary averages SAD per group
value, the leaderboard gives each group columns, and every results file carries the definitions
it was summarised with (``meta.groups``), so a table never depends on the plugin being installed.

A group is a dict::

    dict(key="type",                      # the per-image field (labels file, dataset rows)
         values={"opaque": "Opaque", ...},  # value -> column header, in table order
         closed=True,                     # refuse values not listed (else: extra, not in Avg.)
         placement="whole",               # columns in the whole-image table, or "table": its own
         title="SAD per category",        # caption of its own table (placement "table")
         about="...",                     # the note under its table (default: generated)
         avg_header="Type Avg.")          # header of its "Avg." column in a combined table
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from .errors import MatbenchError

PLACEMENTS = ("whole", "table")


def group_spec(raw: Mapping[str, Any]) -> dict:
    """A complete, validated group definition (defaults filled in) from a plugin's or a results
    file's dict."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("key"), str) or not raw["key"]:
        raise MatbenchError(f"group definition needs a 'key' (the per-image field): {raw!r}")
    key = raw["key"]
    values = raw.get("values", {})
    if not isinstance(values, Mapping):
        raise MatbenchError(f"group '{key}': 'values' must map each value to its column header")
    placement = raw.get("placement", "table")
    if placement not in PLACEMENTS:
        raise MatbenchError(f"group '{key}': placement '{placement}' (known: {', '.join(PLACEMENTS)})")
    headers = [str(h) for h in values.values()]
    return {
        "key": key,
        "values": {str(v): str(h) for v, h in values.items()},
        "closed": bool(raw.get("closed", False)),
        "placement": placement,
        "title": str(raw.get("title", f"SAD per {key}")),
        "about": str(raw.get("about", f"{', '.join(headers)}: mean SAD per {key}; Avg.: the unweighted "
                                      f"mean of the {key} means.")),
        "avg_header": str(raw.get("avg_header", f"{key.capitalize()} Avg.")),
    }


def group_specs(raw: Iterable[Mapping[str, Any]] | None) -> list[dict]:
    """Validated definitions of a list of groups (``None``: no groups)."""
    return [group_spec(g) for g in raw or ()]


def infer_groups(summary: Mapping[str, Any]) -> list[dict]:
    """Group definitions recovered from a summary (results files written before groups were
    recorded): every ``summary[key]`` holding per-value ``sad`` means and ``missing`` values."""
    groups = []
    for key, part in summary.items():
        if isinstance(part, Mapping) and isinstance(part.get("sad"), Mapping) and "missing" in part:
            groups.append(group_spec({"key": key, "values": {v: v for v in part["sad"]}}))
    return groups


def value_lists(groups: Sequence[Mapping]) -> dict[str, list[str]]:
    """``{group key: its declared values, in order}``."""
    return {g["key"]: list(g["values"]) for g in groups}
