"""``W/suite.json``: what a suite is (its file's hash and path), and each pair's status, counts
and time; written atomically after every pair, so a killed suite leaves a current record (each
pair's journal keeps its rows)."""
from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

from .. import __version__
from .schema import Pair, Suite

RECORD_FILE = "suite.json"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class SuiteRecord:
    """The record of one invocation, starting from the previous one's (a pair not reached yet
    keeps the definition its folder's results were computed with)."""

    def __init__(self, work_dir: Path, suite: Suite, threads: Optional[int]) -> None:
        self.path = work_dir / RECORD_FILE
        self._start = time.monotonic()
        previous = _read(self.path)
        self.previous = {p["folder"]: p for p in previous.get("pairs", []) if isinstance(p, dict) and "folder" in p}
        self.data: dict[str, Any] = {
            "matbench_version": __version__,
            "suite": {"path": str(suite.path.resolve()) if suite.path else None, "sha256": suite.file_sha256,
                      "config_sha256": suite.config_sha256},
            "work_dir": str(work_dir.resolve()),
            "command": sys.argv,
            "threads": threads,
            "started": _now(), "updated": None, "finished": None, "seconds": None, "status": "running",
            "pairs": [self._initial(p) for p in suite.pairs],
            "leaderboard": None, "reports": {},
        }

    def _initial(self, pair: Pair) -> dict:
        before = self.previous.get(pair.folder, {})
        return {"dataset": pair.dataset.key, "run": pair.run.label, "folder": pair.folder,
                "status": "skipped" if pair.skip else "pending", "reason": pair.skip, "images": None,
                "reused": None, "computed": None, "recomputed": {}, "seconds": None, "restarted": None,
                "definition": before.get("definition"), "restart_pending": bool(before.get("restart_pending"))}

    def restart_reason(self, pair: Pair) -> Optional[str]:
        """Why the pair's folder must be computed again from scratch, or None: its definition
        differs from the one its results were computed with, or a restart of it did not finish
        (whether it had discarded the older results is not known)."""
        before = self.previous.get(pair.folder, {})
        if before.get("restart_pending"):
            return "a restart of it did not finish"
        recorded = before.get("definition")
        if not isinstance(recorded, dict):
            return None
        now = pair.definition()
        keys = sorted(k for k in set(recorded) | set(now) if recorded.get(k) != now.get(k))
        return f"{', '.join(keys)} changed since its folder was computed" if keys else None

    def finished(self, index: int, pair: Pair, restarted: bool, **outcome: Any) -> None:
        """The outcome of pair ``index``; the folder now holds results of the pair's definition,
        unless a restart failed (then the next invocation restarts it again)."""
        done = outcome.get("status") == "done"
        self.data["pairs"][index].update(outcome, definition=pair.definition(),
                                         restart_pending=restarted and not done)

    def entry(self, index: int) -> dict:
        return self.data["pairs"][index]

    def write(self, status: Optional[str] = None) -> None:
        from ..evaluation.journal import write_json_atomic

        self.data["updated"] = _now()
        if status is not None:
            self.data["status"] = status
            self.data["finished"] = self.data["updated"]
            self.data["seconds"] = round(time.monotonic() - self._start, 3)
        write_json_atomic(self.path, self.data)


def _read(path: Path) -> dict:
    """The previous record, or an empty one when there is none or it cannot be read."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
