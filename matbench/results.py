"""matbench's Python API: :func:`evaluate` runs an evaluation as ``matbench eval`` does (the
command is a thin layer over it) and returns :class:`Results`; :meth:`Results.load` reads a
finished run's ``results.json``.

    import matbench
    r = matbench.evaluate(dataset="aim500", data_root="AIM-500", predictions="pred/")
    print(r.table())              # the paper-style tables
    df = r.per_image              # one row per image (a pandas DataFrame when pandas is installed)
    r.summary["metrics"]["sad"]   # recomputed from the rows
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

PathLike = Union[str, os.PathLike]


class Results:
    """A finished run: its per-image rows, what produced them (``meta``) and summaries derived from
    the rows (never from a stored summary)."""

    def __init__(self, data: Mapping[str, Any], path: Optional[PathLike] = None) -> None:
        from .leaderboard import check_results

        check_results(data, path or "results")
        self.data = dict(data)
        self.path = Path(path) if path is not None else None

    @classmethod
    def load(cls, path: PathLike) -> "Results":
        """A ``results.json`` (or the work dir holding it), checked as ``matbench leaderboard`` checks it."""
        from .leaderboard import load_results

        path = Path(path)
        data = load_results([path])[0]
        return cls(data, path / "results.json" if path.is_dir() else path)

    @property
    def meta(self) -> dict:
        """What the run was: dataset, metric variant, source of the predictions, versions, identity."""
        return self.data["meta"]

    @property
    def rows(self) -> list[dict]:
        """One dict per image: ``name``, its group values, ``unknown_pixels`` and the metric values."""
        return list(self.data["per_image"])

    @property
    def per_image(self) -> Any:
        """The rows as a pandas DataFrame indexed by image name (``pip install pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            from .errors import MatbenchError

            raise MatbenchError("Results.per_image needs pandas (pip install pandas); Results.rows has the same "
                                "rows as dicts") from None
        return pd.DataFrame(self.rows).set_index("name")

    @property
    def summary(self) -> dict:
        """Means over images and per group value, recomputed from the rows."""
        from .evaluation.summary import summarize

        keys = self.meta.get("metric", {}).get("keys") or sorted(
            {k for row in self.rows for k, v in row.items() if isinstance(v, (int, float)) and k != "unknown_pixels"})
        return summarize(self.rows, keys, self.meta.get("groups", []))

    def table(self, fmt: str = "md", **options: Any) -> str:
        """The paper-style tables of this run (options as :func:`matbench.leaderboard.render`'s:
        ``ci``, ``references``, ``columns``, ...)."""
        from .leaderboard import render

        return render([self.data], fmt, **options)

    def __repr__(self) -> str:
        dataset = self.meta.get("dataset", {}).get("name", "?")
        return (f"Results({self.meta.get('label') or '?'!r}, dataset={dataset!r}, variant={self.meta.get('variant')!r}, "
                f"images={len(self.data['per_image'])})")


def evaluate(*, dataset: Optional[str] = None, data_root: Optional[PathLike] = None,
             predictions: Optional[PathLike] = None, model: Optional[str] = None,
             checkpoint: Optional[PathLike] = None, strategy: Optional[str] = None, config: Optional[PathLike] = None,
             dataset_options: Union[Mapping[str, Any], Sequence[str]] = (),
             model_options: Union[Mapping[str, Any], Sequence[str]] = (),
             strategy_options: Union[Mapping[str, Any], Sequence[str]] = (),
             metric_variant: Optional[str] = None, work_dir: Optional[PathLike] = None, label: Optional[str] = None,
             random_weights: bool = False, device: Optional[str] = None, amp: Optional[str] = None,
             channels_last: bool = False, threads: Optional[int] = None, workers: Optional[int] = None,
             metric_workers: Optional[int] = None, restart: bool = False, save_predictions: bool = True,
             report: bool = False, launcher: str = "none") -> Optional[Results]:
    """Evaluate a folder of ``predictions`` or a ``model`` on a dataset, exactly as ``matbench eval``
    does (the same options, checks, journal, resume and results file; the default dataset is the
    embedded one) and return its :class:`Results`. Options of plugins are dicts (or the command
    line's ``"KEY=VALUE"`` texts). Bad input raises :class:`matbench.errors.MatbenchError` with the
    one-line message the command prints. Under torchrun, the processes other than rank 0 get None."""
    from .evaluation.options import make_job, resolve_device
    from .evaluation.run import RESULTS_FILE
    from .evaluation.run import evaluate as run_job

    if predictions is None and resolve_device(device) == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""       # mmengine's Runner then keeps the model on the CPU
    job = make_job(dataset=dataset, data_root=_path(data_root), dataset_options=_pairs(dataset_options),
                   predictions=_path(predictions), model=model, config=_path(config), checkpoint=_path(checkpoint),
                   strategy=strategy, strategy_options=_pairs(strategy_options), random_weights=random_weights,
                   variant=metric_variant, work_dir=_path(work_dir), label=label, workers=workers,
                   metric_workers=metric_workers, launcher=launcher, restart=restart, amp=amp,
                   channels_last=channels_last, save_predictions=save_predictions, report=report,
                   model_options=_pairs(model_options), threads=threads)
    data = run_job(job)
    return Results(data, Path(job.work_dir) / RESULTS_FILE) if data else None


def _path(value: Optional[PathLike]) -> Optional[Path]:
    return None if value is None else Path(value)


def _pairs(options: Union[Mapping[str, Any], Sequence[str]]) -> list[str]:
    """Plugin options as the command line's ``KEY=VALUE`` texts (values written as Python literals)."""
    if isinstance(options, Mapping):
        return [f"{key}={value!r}" for key, value in options.items()]
    return list(options)


def load(path: PathLike) -> Results:
    """The :class:`Results` of a finished run (its work dir or its ``results.json``)."""
    return Results.load(path)


__all__ = ["Results", "evaluate", "load"]
