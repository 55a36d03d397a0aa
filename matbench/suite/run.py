"""Running a suite: every (run, dataset) pair through :func:`matbench.evaluate` into
``W/<dataset>/<run>/``, one after the other on the whole thread budget; a failed pair is said in
one line and the others go on; then the tables and reports of what finished."""
from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from ..errors import MatbenchError
from .output import (REPORT_FILE, check_outputs, leaderboard_path, remove_leaderboard, remove_report, tables,
                     write_dataset_report, write_leaderboard)
from .record import SuiteRecord
from .schema import Pair, Suite, load_suite

PathLike = Union[str, os.PathLike]
#: where a suite goes without --work-dir or ``work_dir`` in the suite: work_dirs/suites/<file stem>
DEFAULT_ROOT = Path("work_dirs") / "suites"


@dataclass
class PairResult:
    """How one pair went: ``status`` is done, failed, skipped or interrupted."""

    dataset: str
    run: str
    work_dir: Path
    status: str
    reason: Optional[str] = None
    images: Optional[int] = None
    reused: Optional[int] = None
    #: why rows the journal had were computed again: reason -> count
    recomputed: dict = field(default_factory=dict)
    seconds: float = 0.0
    #: why the pair was computed again from scratch (its entry changed since its folder's results), or None
    restarted: Optional[str] = None
    results: Any = None           # matbench.Results of a finished pair

    @property
    def name(self) -> str:
        return f"{self.dataset} / {self.run}"

    @property
    def computed(self) -> Optional[int]:
        return None if self.images is None else self.images - (self.reused or 0)


@dataclass
class SuiteResults:
    """A suite's pairs and what was made of them."""

    work_dir: Path
    pairs: list
    #: the tables as printed (empty when no pair finished)
    text: str = ""
    leaderboard: Optional[Path] = None
    #: dataset key -> its report page
    reports: dict = field(default_factory=dict)
    record: Optional[Path] = None

    @property
    def done(self) -> list:
        return [p for p in self.pairs if p.status == "done"]

    @property
    def failed(self) -> list:
        return [p for p in self.pairs if p.status == "failed"]

    @property
    def skipped(self) -> list:
        return [p for p in self.pairs if p.status == "skipped"]

    def results(self, dataset: Optional[str] = None) -> list:
        """The :class:`matbench.Results` of the finished pairs (of one dataset key)."""
        return [p.results for p in self.done if dataset is None or p.dataset == dataset]

    def table(self, fmt: str = "md", **options: Any) -> str:
        """The tables of the finished pairs (options as :func:`matbench.leaderboard.render`'s)."""
        from ..leaderboard import render

        return render([r.data for r in self.results()], fmt, **options)

    def __repr__(self) -> str:
        return (f"SuiteResults({str(self.work_dir)!r}, done={len(self.done)}, failed={len(self.failed)}, "
                f"skipped={len(self.skipped)})")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_suite(suite: Union[PathLike, Mapping, Suite], work_dir: Optional[PathLike] = None,
              threads: Optional[int] = None, *, fmt: str = "md", pivot: str = "sad", ci: bool = False,
              restart: bool = False, report: bool = True, device: Optional[str] = None) -> SuiteResults:
    """Evaluate every (run, dataset) pair of ``suite`` (a suite file, its content as a dict, or a
    :class:`Suite`) and return how each went; see :mod:`matbench.suite` for the format. The
    suite is checked in full first. Each pair is ``matbench.evaluate`` into ``W/<dataset>/<run>/``
    with ``threads`` threads in all (a pair finished before reuses its rows; ``restart``
    computes every pair again). A pair that fails is reported and the others go on: check
    ``SuiteResults.failed``. The tables of the finished pairs go to ``W/leaderboard.<ext>``
    (format ``fmt``; ``pivot``: the metric of the table across datasets; ``ci``: bootstrap
    intervals), each dataset's report to ``W/<dataset>/report.html`` (unless not ``report``), the
    suite's record to ``W/suite.json``."""
    from ..evaluation.journal import prepare_work_dir, work_dir_lock
    from ..leaderboard import FORMATS

    if fmt not in FORMATS:
        raise MatbenchError(f"unknown --format '{fmt}' (known: {', '.join(FORMATS)})")
    if threads is not None and threads < 1:
        raise MatbenchError(f"--threads {threads}: expected 1 or more")
    if not isinstance(suite, Suite):
        suite = load_suite(suite)
    _check_pivot(suite, pivot)
    if work_dir is None and suite.work_dir is None and suite.path is None:
        raise MatbenchError("suite: no work dir (give work_dir=, or work_dir='...' in the suite)")
    root = Path(work_dir or suite.work_dir or DEFAULT_ROOT / suite.path.stem)
    if root.exists() and not root.is_dir():
        raise MatbenchError(f"{root}: the work dir is a file, not a folder (choose another --work-dir)")
    check_outputs(root, fmt, [d.slug for d in suite.datasets], report)

    root = prepare_work_dir(root)
    with work_dir_lock(root):
        record = SuiteRecord(root, suite, threads)
        record.write()
        for pair in suite.pairs:
            if pair.skip:
                say(f"matbench: note: {pair.name}: skipped ({pair.skip})")
        todo = [(i, p) for i, p in enumerate(suite.pairs) if p.skip is None]
        outcomes: list[PairResult] = [PairResult(p.dataset.key, p.run.label, root / p.folder, "skipped", p.skip)
                                      for p in suite.pairs]
        for step, (index, pair) in enumerate(todo, 1):
            try:
                outcomes[index] = _run_pair(pair, f"[{step}/{len(todo)}]", root, record, index, threads, device,
                                            restart)
            except BaseException:           # Ctrl-C, SIGTERM: the record says where it stopped
                with contextlib.suppress(Exception):
                    record.write("interrupted")
                raise
            record.write()
        out = SuiteResults(root, outcomes, record=record.path)
        _tables_and_reports(suite, out, record, fmt, pivot, ci, report)
        record.write("failed" if out.failed else "done")
    return out


def _check_pivot(suite: Suite, pivot: str) -> None:
    """The pivot metric is one that a dataset's metric variant computes (any case)."""
    from ..registry import METRICS, did_you_mean, lookup

    keys = list(dict.fromkeys(k for d in suite.datasets for k in getattr(lookup(METRICS, d.resolved_variant),
                                                                        "keys", ())))
    if keys and pivot.strip().lower() not in {k.lower() for k in keys}:
        raise MatbenchError(f"--pivot {pivot}: no dataset of the suite is scored with this metric"
                            f"{did_you_mean(pivot, keys)} (known: {', '.join(keys)})")


def _run_pair(pair: Pair, step: str, root: Path, record: SuiteRecord, index: int, threads: Optional[int],
              device: Optional[str], restart: bool) -> PairResult:
    """Evaluate one pair; a MatbenchError (or any other failure, with its traceback) is its
    result, not the suite's end."""
    from ..results import evaluate

    result = PairResult(pair.dataset.key, pair.run.label, root / pair.folder, "failed")
    reason = None if restart else record.restart_reason(pair)
    say(f"{step} {pair.name}")
    if reason:
        say(f"matbench: note: {pair.name}: {reason}: computing it again from scratch")
        result.restarted = reason
    record.entry(index).update(status="running", restarted=reason)
    record.write()
    kwargs = pair.evaluate_kwargs()
    if pair.run.model is not None:
        kwargs["device"] = device
    start = time.monotonic()
    try:
        results = evaluate(**kwargs, work_dir=root / pair.folder, label=pair.run.label, threads=threads,
                           restart=restart or reason is not None, report=False)
    except MatbenchError as exc:
        result.reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug in one pair's plugin must not cost the other pairs
        traceback.print_exc()
        result.reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]} (traceback above)"
    except BaseException:          # Ctrl-C, SIGTERM
        record.finished(index, pair, restart or reason is not None, status="interrupted")
        raise
    result.seconds = time.monotonic() - start
    if result.reason is None and results is not None:
        resume = results.meta.get("resume", {})
        result.status, result.results = "done", results
        result.images = len(results.rows)
        result.reused = int(resume.get("reused", 0))
        result.recomputed = {why: len(names) for why, names in (resume.get("recomputed") or {}).items()}
        say(f"{step} {pair.name}: done: {_counts(result)} ({result.seconds:.1f} s)")
    else:
        say(f"{step} {pair.name}: failed: {result.reason}")
    record.finished(index, pair, restart or reason is not None, status=result.status, reason=result.reason,
                    images=result.images, reused=result.reused, computed=result.computed,
                    recomputed=result.recomputed, seconds=round(result.seconds, 3))
    return result


def _counts(result: PairResult) -> str:
    """``12/12 reused``, ``4 computed, 8/12 reused``, ``12 computed``."""
    parts = []
    if result.computed:
        parts.append(f"{result.computed} computed")
    if result.reused:
        parts.append(f"{result.reused}/{result.images} reused")
    again = sum(result.recomputed.values())
    if again:
        parts.append(f"{again} of them again because their inputs changed")
    return ", ".join(parts) or "no images"


def _tables_and_reports(suite: Suite, out: SuiteResults, record: SuiteRecord, fmt: str, pivot: str, ci: bool,
                        report: bool) -> None:
    """The leaderboard of the finished pairs (printed by the caller) and each dataset's report."""
    from ..evaluation.run import RESULTS_FILE
    from ..leaderboard import load_results

    done = out.done
    datasets = [d for d in suite.datasets if any(p.dataset == d.key for p in done)]
    if not done:
        say("matbench: note: no pair finished: no tables and no reports")
        remove_leaderboard(out.work_dir, fmt)          # none is current: none is left to be mistaken for one
    else:
        loaded = load_results([p.work_dir / RESULTS_FILE for p in done])
        out.text = tables(loaded, fmt, pivot, ci, len(datasets))
        out.leaderboard = write_leaderboard(out.text, out.work_dir, fmt)
        record.data["leaderboard"] = str(out.leaderboard)
    if not report:
        return
    for d in suite.datasets:
        page = out.work_dir / d.slug / REPORT_FILE
        runs = [p.work_dir for p in done if p.dataset == d.key]
        if not runs:
            remove_report(page)
            continue
        say(f"matbench: writing the report of {d.key} ({len(runs)} run{'s' if len(runs) > 1 else ''}): {page}")
        written, problem = write_dataset_report(runs, page)
        if written is not None:
            out.reports[d.key] = written
        record.data["reports"][d.key] = str(written) if written is not None else f"not written: {problem}"


__all__ = ["PairResult", "SuiteResults", "leaderboard_path", "run_suite"]
