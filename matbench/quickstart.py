"""The quickstart job: weight-free methods on the embedded dataset, then the leaderboard."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .evaluation.options import make_job
from .evaluation.run import RESULTS_FILE, evaluate
from .leaderboard import load_results, render, write
from .report import write_report


def demo_models() -> list[str]:
    """The methods ``matbench demo`` compares: the registered models whose class sets ``in_demo``."""
    from .plugins import load_plugins
    from .registry import MODELS

    load_plugins()
    return [name for name, cls in MODELS.module_dict.items() if getattr(cls, "in_demo", False)]


def run_demo(work_dir: Path, models: Sequence[str] = ()) -> str:
    """Evaluate each trimap-based method on the embedded dataset; returns the Markdown tables
    (also written to ``work_dir/leaderboard.md``; the visual report of all runs goes to
    ``work_dir/report.html``)."""
    models = list(models) or demo_models()
    paths = []
    for model in models:
        job = make_job(dataset="embedded", data_root=None, model=model,
                       work_dir=Path(work_dir) / model.lower())
        evaluate(job)
        paths.append(Path(job.work_dir) / RESULTS_FILE)
    text = render(load_results(paths), "md")
    write(text, Path(work_dir) / "leaderboard.md", fmt="md")
    report = write_report([p.parent for p in paths], Path(work_dir) / "report.html")
    return text + (f"\nresults: {', '.join(str(p) for p in paths)}\ntables: {Path(work_dir) / 'leaderboard.md'}"
                   f"\nreport: {report}")
