"""What tables know of a metric variant: its description as the run's results file records it
(``meta.metric``, written from the plugin's class), else as the registered class declares it —
columns, keys, title, note, and which keys are better when higher."""
from __future__ import annotations

from typing import Any, Mapping, Sequence


def metric_class(variant: str) -> Any:
    from ..plugins import load_plugins_for
    from ..registry import METRICS

    load_plugins_for(METRICS, variant)
    return METRICS.module_dict.get(variant)


def recorded(meta: Mapping) -> dict | None:
    """A results file's own description of its variant (``meta.metric``), when well formed."""
    desc = meta.get("metric")
    return dict(desc) if isinstance(desc, Mapping) and desc.get("variant") == meta.get("variant") else None


def description(variant: str, runs: Sequence[Any] = ()) -> dict:
    """The variant as the first run that records it describes it, else its registered class
    (empty fields when neither knows it)."""
    for run in runs:
        desc = getattr(run, "metric_desc", None)
        if desc:
            return desc
    cls = metric_class(variant)
    return {"variant": variant, "title": getattr(cls, "title", ""), "keys": list(getattr(cls, "keys", ()) or ()),
            "columns": [list(c) for c in getattr(cls, "columns", ()) or ()],
            "headers": {k: list(v) for k, v in (getattr(cls, "headers", {}) or {}).items()},
            "note": getattr(cls, "note", ""), "uses_trimap": getattr(cls, "uses_trimap", True),
            "higher_is_better": list(getattr(cls, "higher_is_better", ()) or ())}


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


def header_of(key: str, variant: str, runs: Sequence[Any] = ()) -> tuple[str, int]:
    """(header, decimals) of a metric key: the variant's columns or headers, any registered
    variant's, else the key itself."""
    desc = description(variant, runs)
    for k, head, dec in desc.get("columns") or ():
        if k == key:
            return str(head), int(dec)
    if key in (desc.get("headers") or {}):
        head, dec = desc["headers"][key]
        return str(head), int(dec)
    return _known_headers().get(key, (key, 4 if key.startswith(("mse", "mad")) else 2))


def metric_columns(variant: str, runs: Sequence[Any]) -> list[tuple[str, str, int]]:
    """(key, header, decimals) of the whole-image table: the variant's declared columns, else
    every metric of the runs (known headers where a registered variant names them)."""
    declared = [tuple(c) for c in description(variant, runs).get("columns") or ()]
    if declared:
        return [(str(k), str(h), int(d)) for k, h, d in declared]
    keys: list[str] = []
    for run in runs:
        keys += [k for k in run.metrics if k not in keys]
    known = _known_headers()
    return [(k, *known.get(k, (k, 4 if k.startswith(("mse", "mad")) else 2))) for k in keys]


def variant_title(variant: str, runs: Sequence[Any] = ()) -> str:
    title = description(variant, runs).get("title", "")
    return f"variant {variant} ({title})" if title else f"variant {variant}"


def higher_is_better(variant: str, runs: Sequence[Any] = ()) -> set[str]:
    """Keys of the variant where higher is better; every other key (SAD, MSE, ...) is an error."""
    return {str(k) for k in description(variant, runs).get("higher_is_better") or ()}
