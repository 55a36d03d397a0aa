"""Crash-safe results storage: a per-image journal that knows what each row was computed from,
and atomically written final files.

Every journal row carries an input record: a digest of the run's identity (metric variant, class
and code, what produced the predictions, the checkpoint's content hash, the dataset's options, the
plugin packages and their versions) and a content stamp of each file the row was computed from
(:mod:`matbench.content`: path, size, modification and change time, SHA-256, taken by the process
that read the file). A resumed run reuses a row only when the run digest is the same and every
file still has the recorded content, so replacing a ground-truth mask (whatever its modification
time), re-exporting a prediction or retraining a checkpoint in place recomputes exactly the rows
concerned.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..content import file_sha256, file_stamp, same_content, sealed  # noqa: F401  (re-exported)
from ..errors import InputError, MatbenchError

JOURNAL_GLOB = "per_image*.jsonl"
RUN_FILE = "run.json"
#: the key of a journal row's input record (left out of results files)
INPUTS_KEY = "_inputs"


def _plain(value: Any) -> Any:
    """JSON-safe value: numpy scalars to Python, non-finite floats refused."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise MatbenchError(f"refusing to store a non-finite value ({value})")
    return value


def write_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "cannot write: no space left on the device"
    if exc.errno == errno.EROFS:
        return "cannot write: read-only file system"
    return f"cannot write: {exc.strerror or exc}"


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write JSON (no NaN) to `path` atomically (see :func:`matbench.io.atomic_write`); a failed
    write (disk full, read-only) is an InputError naming the file."""
    from ..io import atomic_write

    def dump(f) -> None:
        json.dump(data, f, indent=1, allow_nan=False)
        f.write("\n")

    try:
        atomic_write(path, dump, text=True)
    except OSError as exc:
        raise InputError(path, write_problem(exc)) from None


def prepare_work_dir(work_dir: str | os.PathLike) -> Path:
    """Create `work_dir` if needed and check that files can be written in it."""
    path = Path(work_dir)
    try:
        if path.exists() and not path.is_dir():
            raise InputError(path, "the work dir is a file, not a folder (choose another --work-dir)")
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(path, f"work dir unusable: {write_problem(exc)}") from None
    return path


@contextlib.contextmanager
def work_dir_lock(work_dir: Path, hold: bool = True) -> Iterator[None]:
    """Hold ``work_dir/.lock`` for the duration of a run: a second run into the same work dir (a
    --restart among them) is refused instead of overwriting the first one's results."""
    if not hold:
        yield
        return
    import fcntl

    path = work_dir / ".lock"
    try:
        # never through a link: the target (any file of the user's) would be truncated
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        kind = ("a folder" if path.is_dir() and not path.is_symlink() else
                "a symbolic link" if path.is_symlink() else None)
        if kind is None:
            raise InputError(path, f"cannot create matbench's lock file: {exc.strerror or exc}") from None
        raise InputError(path, f"matbench's lock file is {kind}; remove it (matbench writes a plain file "
                               "there)") from None
    with os.fdopen(fd, "r+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            owner = f.read().strip() or "?"
            raise MatbenchError(f"{work_dir}: another matbench run (pid {owner}) is using this work dir; "
                                "wait for it or choose another --work-dir") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def digest(data: Any) -> str:
    """A short, stable digest of JSON-able data."""
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class ResumePlan:
    """Which images a run reuses from the journal, and why the others are computed."""

    reused: list[dict] = field(default_factory=list)
    #: reason -> names, for the images computed again although the journal had a row for them
    recomputed: dict[str, list[str]] = field(default_factory=dict)
    pending: list[int] = field(default_factory=list)
    #: journal lines that could not be read (a row cut short by a kill is computed again)
    unreadable: int = 0

    def describe(self, total: int) -> str:
        """One line: how many images are reused and why the others are recomputed."""
        parts = [f"{len(self.reused)} of {total} images reused from the journal"]
        if self.unreadable:
            parts.append(f"{self.unreadable} unreadable journal line(s) ignored (cut short by a kill?)")
        for reason, names in self.recomputed.items():
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            parts.append(f"{len(names)} recomputed ({reason}: {shown})")
        return "; ".join(parts)


class Journal:
    """Append-only JSON-lines file of finished per-image rows (one file per process rank)."""

    def __init__(self, work_dir: str | os.PathLike, rank: int = 0) -> None:
        self.work_dir = Path(work_dir)
        #: lines of the last read that were not rows (torn by a kill, or damaged)
        self.unreadable = 0
        self.path = self.work_dir / (f"per_image.rank{rank}.jsonl" if rank else "per_image.jsonl")

    def append(self, row: dict, inputs: Mapping | None = None) -> None:
        """Add a finished row with the record of what it was computed from: ``inputs`` is
        ``{"run": digest, "files": {role: stamp}}``; a stamp without its hash is hashed now."""
        record = {k: _plain(v) for k, v in row.items()}
        if inputs is not None:
            record[INPUTS_KEY] = {**inputs, "files": {role: sealed(list(stamp))
                                                      for role, stamp in inputs.get("files", {}).items()}}
        line = json.dumps(record, allow_nan=False)
        try:
            with open(self.path, "a+b") as f:
                if f.tell() and (f.seek(-1, os.SEEK_END), f.read(1))[1] != b"\n":
                    f.write(b"\n")          # a line torn by a kill stays alone on its line
                f.write(line.encode() + b"\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise InputError(self.path, write_problem(exc)) from None

    def finished(self) -> dict[str, list[dict]]:
        """Rows of every rank's journal (with their input records) by image name, every row of
        an image in the order written within its file; a line cut short by a kill is ignored."""
        rows: dict[str, list[dict]] = {}
        self.unreadable = 0
        for path in sorted(self.work_dir.glob(JOURNAL_GLOB)):
            for line in path.read_bytes().splitlines():
                try:
                    row = json.loads(line.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    self.unreadable += 1
                    continue
                if isinstance(row, dict) and isinstance(row.get("name"), str):
                    rows.setdefault(row["name"], []).append(row)
                else:
                    self.unreadable += 1
        return rows

    def has_rows(self) -> bool:
        return any(path.stat().st_size for path in self.work_dir.glob(JOURNAL_GLOB))

    def plan(self, names: Iterable[str], inputs: Mapping[str, Mapping], run: str) -> ResumePlan:
        """Reuse, of each image's journal rows (several after a torchrun run resumed by one
        process, or a rerun), the last one whose run digest is ``run`` and whose files still have
        their recorded contents (``inputs[name]["files"]``: current stamps, hashed here only
        where a stamp differs)."""
        journalled = self.finished()
        plan = ResumePlan(unreadable=self.unreadable)
        for index, name in enumerate(names):
            candidates = journalled.get(name)
            if not candidates:
                plan.pending.append(index)
                continue
            reason = None
            for row in reversed(candidates):
                reason = _mismatch(row.get(INPUTS_KEY), inputs[name]["files"], run)
                if reason is None:
                    row.pop(INPUTS_KEY)
                    plan.reused.append(row)
                    break
            if reason is not None:
                plan.recomputed.setdefault(reason, []).append(name)
                plan.pending.append(index)
        return plan

    def clear(self) -> None:
        for path in self.work_dir.glob(JOURNAL_GLOB):
            path.unlink()


def _mismatch(record: Any, files: Mapping[str, list], run: str) -> str | None:
    """Why a journal row's input ``record`` does not hold for the current ``files``, or None."""
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        return "no record of its inputs in the journal"
    if record.get("run") != run:
        return "the model, options, dataset options, metric, plugin versions or their code changed"
    recorded = record["files"]
    changed = [role for role, stamp in files.items()
               if not isinstance(recorded.get(role), list) or not same_content(recorded[role], stamp)]
    changed += [role for role in recorded if role not in files]
    return f"{', '.join(changed)} changed" if changed else None


def check_same_run(work_dir: str | os.PathLike, signature: dict, has_results: bool) -> None:
    """Record what a work dir evaluates; refuse to resume a different run into it.

    Only a work dir holding results (journal rows or a results file) is protected: a run that
    failed before its first image leaves nothing to protect."""
    path = Path(work_dir) / RUN_FILE
    if has_results and path.exists():
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
