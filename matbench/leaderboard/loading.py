"""Reading results files: validation with one-line errors, and what a table needs to know of a
run that its file may not say (older files: group definitions, the "Test" cell)."""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import InputError, MatbenchError
from ..groups import group_specs, infer_groups
from ..io import read_json


class ResultsFile(dict):
    """A results file's content, remembering where it was read (``path``)."""

    path: Path


def load_results(paths: Iterable[str | os.PathLike]) -> list[dict]:
    """Read results.json files (a directory stands for its results.json); one-line errors. Each
    is a :class:`ResultsFile` (a dict with its ``path``)."""
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
        loaded = ResultsFile(data)
        loaded.path = path
        results.append(loaded)
    if not results:
        raise MatbenchError("no results files given")
    return results


_KIND = {dict: "JSON object", list: "JSON list", str: "string"}


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
    if "groups" in meta:
        need(meta, "groups", list, "meta.")
        try:
            group_specs(meta["groups"])
        except MatbenchError as exc:
            raise InputError(source, f"meta.groups: {exc}") from None
        for group in meta["groups"]:
            part = need(summary, group["key"], dict, "summary.")
            need(part, "sad", dict, f"summary.{group['key']}.")
    _check_values(data, source)


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
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                    or (nullable and value is None)):
                fail(f"{where}{key}", "a number", value)

    meta, summary = data["meta"], data["summary"]
    if isinstance(meta.get("dataset"), dict):
        numbers(meta["dataset"], "meta.dataset.", ["num_images"], nullable=False)
    numbers(summary, "summary.", ["count"], nullable=False)
    numbers(summary["metrics"], "summary.metrics.")
    for key, part in summary.items():
        if isinstance(part, dict) and isinstance(part.get("sad"), dict):
            numbers(part["sad"], f"summary.{key}.sad.")
            numbers(part, f"summary.{key}.", ["avg"])
    if summary.get("no_unknown_region") is not None and not isinstance(summary["no_unknown_region"], list):
        fail("summary.no_unknown_region", "a JSON list", summary["no_unknown_region"])
    declared = meta["metric"].get("keys") if isinstance(meta.get("metric"), dict) else None
    row_keys = list(dict.fromkeys(["unknown_pixels", *summary["metrics"],
                                   *(k for k in declared or () if isinstance(k, str))]))
    seen: dict[str, int] = {}
    for i, row in enumerate(data["per_image"]):
        if not isinstance(row, dict):
            fail(f"per_image[{i}]", "a JSON object", row)
        if not isinstance(row.get("name"), str):
            fail(f"per_image[{i}].name", "an image name (a string)", row.get("name"))
        if row["name"] in seen:
            raise InputError(source, f"per_image[{i}]: image '{row['name']}' appears twice "
                                     f"(also per_image[{seen[row['name']]}])")
        seen[row["name"]] = i
        numbers(row, f"per_image[{i}].", row_keys)
    expected = meta["dataset"].get("num_images") if isinstance(meta.get("dataset"), dict) else None
    if data["per_image"] and expected is not None and expected != len(data["per_image"]):
        raise InputError(source, f"meta.dataset.num_images is {expected} but per_image has "
                                 f"{len(data['per_image'])} rows")


def _dataset_class(name: str) -> Any:
    """The registered dataset class called ``name`` (any case), or None (only the plugin that
    provides it is imported)."""
    from ..plugins import known_names, load_plugins_for
    from ..registry import DATASETS

    match = next((n for n in known_names(DATASETS) if n.lower() == str(name).lower()), None)
    if match is None:
        return None
    load_plugins_for(DATASETS, match)
    return DATASETS.module_dict.get(match)


def dataset_of(meta: Mapping) -> dict:
    """``{"name", "title", "num_images"}`` of a run's dataset: the canonical name its plugin
    declares (older files give only the registered type, in any case)."""
    dataset = meta.get("dataset") if isinstance(meta.get("dataset"), Mapping) else {}
    kind = str(dataset.get("type", "?"))
    # files written now name the set themselves: its plugin is imported only for older ones
    known = dataset.get("name") and dataset.get("title")
    info = {} if known else dict(getattr(_dataset_class(kind), "METAINFO", {}) or {})
    return {"name": str(dataset.get("name") or info.get("name") or kind),
            "title": str(dataset.get("title") or info.get("title") or dataset.get("name") or kind),
            "num_images": dataset.get("num_images", "?")}


def groups_of(res: Mapping) -> list[dict]:
    """The group definitions a run was summarised with: its own record, else its dataset
    plugin's declaration, else what its summary shows."""
    meta, summary = res["meta"], res["summary"]
    if isinstance(meta.get("groups"), list):
        return group_specs(meta["groups"])
    dataset = meta.get("dataset") if isinstance(meta.get("dataset"), Mapping) else {}
    declared = (getattr(_dataset_class(dataset.get("type", "")), "METAINFO", {}) or {}).get("groups")
    if declared:
        return [g for g in group_specs(declared) if isinstance(summary.get(g["key"]), Mapping)]
    return infer_groups(summary)


def test_name(meta: Mapping) -> str:
    """The "Test" cell: ``meta.test``, or for older files one derived from the source (a
    strategy's own ``label()``)."""
    if isinstance(meta.get("test"), str):
        return meta["test"]
    source = meta.get("source") if isinstance(meta.get("source"), Mapping) else {}
    strategy = source.get("strategy")
    if isinstance(strategy, Mapping) and strategy.get("type"):
        return _strategy_label(dict(strategy))
    return {"TrimapPredictor": "trimap", "PredictionFolder": "predictions"}.get(source.get("type"), "")


def _strategy_label(cfg: dict) -> str:
    from ..registry import STRATEGIES, build

    name = str(cfg["type"])
    try:
        strategy = build(STRATEGIES, cfg)
    except Exception:  # noqa: BLE001 - a strategy no longer installed, or renamed options
        return name[:1].upper() + name[1:]
    label = getattr(strategy, "label", None)
    return label() if callable(label) else name[:1].upper() + name[1:]
