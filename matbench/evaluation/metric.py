"""`ImageMetric`: the mmengine `BaseMetric` that gathers per-image matting metric functions."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from .summary import summarize


class ImageMetric(BaseMetric):
    """Per-image metrics over a dataset; a subclass is one metric *variant* (e.g. "aim", "dim").

    Subclasses set ``variant`` and ``keys`` and implement :meth:`compute_image`. Each data sample
    reaching :meth:`process` is a dict with ``name``, ``type``, ``category``, ``pred_alpha``
    (float64 HxW in [0, 1]), ``alpha`` (float64 HxW in [0, 1]) and ``trimap`` (uint8 HxW,
    0/128/255). ``on_row`` (set by the evaluation loop) sees every finished row at once, so a
    killed run keeps what it computed; ``on_done`` receives all rows and the summary on rank 0.
    """

    variant: str = ""
    keys: tuple[str, ...] = ()
    default_prefix = "matting"

    def __init__(self, collect_device: str = "cpu", prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.on_row: Callable[[dict], None] | None = None
        self.on_done: Callable[[list[dict], dict], None] | None = None
        self.previous_rows: list[dict] = []

    def compute_image(self, pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray) -> dict[str, float | None]:
        """The metric values of one image, keyed by ``self.keys``."""
        raise NotImplementedError

    def row(self, sample: dict) -> dict[str, Any]:
        values = self.compute_image(sample["pred_alpha"], sample["alpha"], sample["trimap"])
        return {"name": sample["name"], "type": sample["type"], "category": sample["category"],
                "unknown_pixels": int(np.count_nonzero(sample["trimap"] == 128)), **values}

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            row = self.row(sample)
            if self.on_row is not None:
                self.on_row(row)
            self.results.append(row)

    def compute_metrics(self, results: list) -> dict[str, float]:
        rows = sorted(self.previous_rows + list(results), key=lambda r: r["name"])
        summary = summarize(rows, self.keys)
        if self.on_done is not None:
            self.on_done(rows, summary)
        return {k: v for k, v in summary["metrics"].items() if v is not None}
