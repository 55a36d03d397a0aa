"""Published results as data: one JSON file per source, shipped by the plugin that knows it and
registered in ``REFERENCES``; ``matbench leaderboard --reference NAME`` puts its rows beside runs
of the same dataset and metric variant.

A reference file::

    {"name": "my-paper", "source": "github:me/my-net README.md",
     "rows": [{"label": "MyNet", "dataset": "<CLI name>", "split": "test", "num_images": 500,
               "variant": "<metric variant>", "test": "<short Test cell>", "setting": "<what was run>",
               "citation": "README.md, table 2", "metrics": {"sad": 44.25, ...},
               "groups": {"<group key>": {"<value>": 32.48, ..., "avg": 86.27}}}]}

Values are in the units of matbench's results files (SAD / 1000 as papers print it, MSE as a
fraction); a row's "groups" use the group keys its dataset declares.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ..errors import InputError, MatbenchError
from ..io import read_json

ROW_KEYS = ("label", "dataset", "variant", "metrics")


def reference_file(path: str | os.PathLike, module: str) -> Callable[[], dict]:
    """A loader to register in ``REFERENCES`` for the reference file at ``path`` (``module``: the
    registering plugin's ``__name__``, so ``matbench list references`` names its package)::

        REFERENCES.register_module(name="my-paper", module=reference_file(HERE / "my-paper.json", __name__))
    """
    path = Path(path)

    def load() -> dict:
        data = read_json(path)
        check_reference(data, path)
        return data

    def source() -> str:
        """The file's one-line source, for `matbench list references` (read only then, not at
        every start-up; a broken file is reported when its rows are used)."""
        try:
            return str(read_json(path).get("source", path.name))
        except (InputError, AttributeError):
            return path.name

    load.__module__ = module
    load.__doc__ = f"published rows of {path.name}"
    load.source = source
    return load


def check_reference(data: object, path: str | os.PathLike) -> None:
    """Refuse a reference file that lacks what a table row needs."""
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list) or not isinstance(data.get("source"), str):
        raise InputError(path, "not a reference file: expected {\"source\": ..., \"rows\": [...]}")
    for i, row in enumerate(data["rows"]):
        missing = [k for k in ROW_KEYS if not isinstance(row, dict) or k not in row]
        if missing:
            raise InputError(path, f"rows[{i}]: missing {', '.join(missing)}")
        for key, value in row["metrics"].items():
            if not (value is None or isinstance(value, (int, float)) and not isinstance(value, bool)):
                raise InputError(path, f"rows[{i}].metrics.{key}: expected a number, got {value!r}")


def load_references(names: list[str]) -> list[dict]:
    """The registered reference sources ``names``, each ``{"name", "source", "rows"}``."""
    from ..registry import REFERENCES, lookup

    sources = []
    for name in names:
        data = dict(lookup(REFERENCES, name)())
        data.setdefault("name", name)
        sources.append(data)
    return sources


def reference_names() -> list[str]:
    from ..plugins import known_names
    from ..registry import REFERENCES

    names = known_names(REFERENCES)
    if not names:
        raise MatbenchError("no reference sources are registered")
    return names
