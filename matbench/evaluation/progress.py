"""A rich progress bar of the images evaluated: done / total, elapsed and remaining time."""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class ProgressBar:
    """Images done out of a total; `advance` may be called with any count (rows of all ranks)."""

    def __init__(self, description: str, total: int, done: int = 0) -> None:
        # on stderr, and only on a terminal: `matbench eval ... > tables.md` keeps only the tables, and
        # a log or a script reading stderr gets messages, not bars
        console = Console(stderr=True)
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), transient=False,
                                  console=console, disable=not console.is_terminal)
        self._task = self._progress.add_task(description, total=total, completed=done)
        self._progress.start()

    def advance(self, images: int = 1) -> None:
        task = self._progress.tasks[self._task]
        self._progress.update(self._task, completed=min(task.completed + images, task.total))

    def stop(self) -> None:
        self._progress.stop()
