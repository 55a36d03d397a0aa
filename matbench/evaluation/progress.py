"""A rich progress bar for the Runner's test loop."""
from __future__ import annotations

from mmengine.dist import get_world_size, is_main_process
from mmengine.hooks import Hook
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class RichProgressHook(Hook):
    """Shows images done / total, elapsed and remaining time while evaluating."""

    priority = "VERY_LOW"

    def __init__(self, description: str = "evaluating", already_done: int = 0) -> None:
        self.description = description
        self.already_done = already_done
        self._progress: Progress | None = None
        self._task = None

    def before_test_epoch(self, runner) -> None:
        if not is_main_process():
            return
        total = len(runner.test_dataloader.dataset) + self.already_done
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), transient=False)
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=total, completed=self.already_done)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._progress is not None:
            # under DDP each rank handles 1/world of the images; rank 0 reports for all (its
            # share may be one image larger than the others')
            task = self._progress.tasks[self._task]
            done = task.completed + (len(outputs) if outputs else 1) * get_world_size()
            self._progress.update(self._task, completed=min(done, task.total))

    def after_test_epoch(self, runner, metrics=None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
