"""Crash-safe results storage: a per-image journal and atomically written final files."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from ..errors import MatbenchError

JOURNAL_GLOB = "per_image*.jsonl"
RUN_FILE = "run.json"


def _plain(value: Any) -> Any:
    """JSON-safe value: numpy scalars to Python, non-finite floats refused."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise MatbenchError(f"refusing to store a non-finite value ({value})")
    return value


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write JSON (no NaN) to `path` atomically (see :func:`matbench.io.atomic_write`)."""
    from ..io import atomic_write

    def dump(f) -> None:
        json.dump(data, f, indent=1, allow_nan=False)
        f.write("\n")

    atomic_write(path, dump, text=True)

class Journal:
    """Append-only JSON-lines file of finished per-image rows (one file per process rank)."""

    def __init__(self, work_dir: str | os.PathLike, rank: int = 0) -> None:
        self.work_dir = Path(work_dir)
        self.path = self.work_dir / (f"per_image.rank{rank}.jsonl" if rank else "per_image.jsonl")

    def append(self, row: dict) -> None:
        line = json.dumps({k: _plain(v) for k, v in row.items()}, allow_nan=False)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    def finished(self) -> list[dict]:
        """Rows of every rank's journal; a line cut short by a kill is ignored."""
        rows: dict[str, dict] = {}
        for path in sorted(self.work_dir.glob(JOURNAL_GLOB)):
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(row, dict) and "name" in row:
                    rows[row["name"]] = row
        return list(rows.values())

    def clear(self) -> None:
        for path in self.work_dir.glob(JOURNAL_GLOB):
            path.unlink()


def check_same_run(work_dir: str | os.PathLike, signature: dict) -> None:
    """Record what a work dir evaluates; refuse to resume a different run into it."""
    path = Path(work_dir) / RUN_FILE
    if path.exists():
        try:
            previous = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            previous = None
        if previous != signature:
            raise MatbenchError(
                f"{path}: this work dir holds results of a different run; "
                "use another --work-dir or pass --restart to discard them")
        return
    write_json_atomic(path, signature)
