"""Files matbench derives from input files (generated trimaps, greyscale copies of colour mattes),
cached in a folder of its own and trusted by content only.

The folder's ``manifest.json`` records, for each file, the recipe that made it and the content
stamps (:mod:`matbench.content`) of its source and of the file itself. A file is reused only when
its source still has the recorded content and the file still has the content matbench wrote; a
changed source (whatever its modification time), a hand-edited, truncated or foreign file, a
damaged manifest or another recipe: the file is made again. Nothing in the cache is ever scored
or fatal because of what happened to it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .content import file_stamp, same_content, sealed
from .errors import InputError

MANIFEST = "manifest.json"


class DerivedFiles:
    """PNG files ``folder/<name>.png`` made by ``recipe`` (a JSON-able description of how; part
    of every file's identity) from one source file each; call :meth:`save` after the last one."""

    def __init__(self, folder: str | os.PathLike, recipe: Mapping[str, Any]) -> None:
        self.folder = Path(folder)
        self.recipe = json.loads(json.dumps(dict(recipe)))
        self.entries: dict[str, dict] = {}
        self._changed = False
        try:
            doc = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(doc, dict) and doc.get("recipe") == self.recipe and isinstance(doc.get("files"), dict):
            self.entries = {k: v for k, v in doc["files"].items() if _well_formed(v)}

    def get(self, name: str, source: str | os.PathLike, make: Callable[[Path], np.ndarray]) -> Path:
        """The file derived from ``source`` under ``name``: the cached one when it and its source
        still have their recorded contents, else ``make(source)`` (a uint8 array) written now."""
        from .io import write_png_atomic

        out = self.folder / f"{name}.png"
        source_now = file_stamp(source)
        entry = self.entries.get(name)
        if (entry is not None and same_content(entry["source"], source_now)
                and same_content(entry["output"], file_stamp(out))):
            return out
        array = make(Path(source))
        try:
            write_png_atomic(out, array)
        except OSError as exc:
            from .evaluation.journal import write_problem

            raise InputError(out, f"matbench's cache of derived files: {write_problem(exc)}") from None
        self.entries[name] = {"source": sealed(source_now), "output": file_stamp(out, with_hash=True)}
        self._changed = True
        return out

    def save(self) -> None:
        """Write the manifest when a file was made (atomically; a cache that cannot be written is
        an error naming it, like the files themselves)."""
        if not self._changed:
            return
        from .evaluation.journal import write_json_atomic

        write_json_atomic(self.folder / MANIFEST, {"recipe": self.recipe, "files": self.entries})
        self._changed = False


def _well_formed(entry: Any) -> bool:
    return (isinstance(entry, dict) and all(isinstance(entry.get(k), list) and len(entry[k]) == 5
                                            for k in ("source", "output")))
